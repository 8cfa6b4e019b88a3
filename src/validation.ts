import { DomainError, inputPath, UserErrorCode } from './errors';

/** Trimmed, non-empty text of bounded length, or a userError naming the field. */
export function requireText(value: string, field: string, maxLength = 200): string {
  const text = value.trim();
  if (text.length === 0 || text.length > maxLength) {
    throw new DomainError(UserErrorCode.INVALID, `${field} must be 1 to ${maxLength} characters`, inputPath(field));
  }
  return text;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function requireEmail(value: string, field = 'email'): string {
  const email = value.trim();
  if (email.length > 320 || !EMAIL.test(email)) {
    throw new DomainError(UserErrorCode.INVALID, `${field} must be an email address`, inputPath(field));
  }
  return email;
}

/** A money amount or count that may not be below zero. */
export function requireNonNegative(value: bigint, field: string): bigint {
  if (value < 0n) throw new DomainError(UserErrorCode.INVALID, `${field} cannot be negative`, inputPath(field));
  return value;
}

/** A budget and its period as a mutation input gives them: a key left out is undefined, an explicit null is null. */
export interface BudgetInput<P> {
  budget?: bigint | null;
  budgetPeriod?: P | null;
}

/**
 * What a budget input asks for: `undefined` keeps the budget as it is (both left out), a pair
 * of nulls clears it (`budget: null` alone clears it too), two values set it. A budget without
 * a period, or a period without a budget, is refused.
 */
export function requireBudget<P>(input: BudgetInput<P>): { budget: bigint | null; budgetPeriod: P | null } | undefined {
  const { budget, budgetPeriod } = input;
  if (budget === undefined && budgetPeriod === undefined) return undefined;
  if (budget == null) {
    if (budgetPeriod != null) {
      throw new DomainError(UserErrorCode.INVALID, 'budgetPeriod needs a budget: give both, or clear both with null', ['input', 'budget']);
    }
    return { budget: null, budgetPeriod: null };
  }
  requireNonNegative(budget, 'budget');
  if (budgetPeriod == null) {
    throw new DomainError(UserErrorCode.INVALID, 'budget needs a budgetPeriod: give both, or clear both with null', ['input', 'budgetPeriod']);
  }
  return { budget, budgetPeriod };
}
