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

/** A budget as a mutation input sets it: at most `amount` per calendar `period`. */
export interface BudgetSetting<P> {
  amount: bigint;
  period: P;
}

/**
 * What a budget input asks for: left out (undefined) keeps the budget as it is, null removes it,
 * a value sets it, its amount not negative. `field` is the input's name, e.g. "budget".
 */
export function requireBudget<P>(budget: BudgetSetting<P> | null | undefined, field: string): BudgetSetting<P> | null | undefined {
  if (budget != null) requireNonNegative(budget.amount, `${field}.amount`);
  return budget;
}
