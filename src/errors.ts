/** Codes of business outcomes reported in a payload's `userErrors`. */
export enum UserErrorCode {
  NOT_FOUND = 'NOT_FOUND',
  INVALID = 'INVALID',
  TAKEN = 'TAKEN',
  INSUFFICIENT_FUNDS = 'INSUFFICIENT_FUNDS',
  BALANCE_OUT_OF_RANGE = 'BALANCE_OUT_OF_RANGE',
  SAME_WALLET = 'SAME_WALLET',
  LAST_OWNER = 'LAST_OWNER',
  IDEMPOTENCY_KEY_REUSED = 'IDEMPOTENCY_KEY_REUSED',
  PAYMENT_PROVIDER_ERROR = 'PAYMENT_PROVIDER_ERROR',
  PAYMENTS_NOT_CONFIGURED = 'PAYMENTS_NOT_CONFIGURED',
  NO_PAYMENT_METHOD = 'NO_PAYMENT_METHOD',
  BILLING_PROFILE_REQUIRED = 'BILLING_PROFILE_REQUIRED',
}

export interface UserErrorData {
  /** Path of the input field at fault, e.g. ["input", "amount"]. */
  field: string[] | null;
  message: string;
  code: UserErrorCode;
}

/** The path of an input field as a message names it: "address.country" is ["input", "address", "country"]. */
export function inputPath(field: string): string[] {
  return ['input', ...field.split('.')];
}

/**
 * A business denial raised by a service. Thrown inside a transaction it rolls the work back;
 * the resolver turns it into `userErrors`.
 */
export class DomainError extends Error {
  constructor(
    readonly code: UserErrorCode,
    message: string,
    readonly field: string[] | null = null,
  ) {
    super(message);
  }

  toUserError(): UserErrorData {
    return { field: this.field, message: this.message, code: this.code };
  }
}

/*
 * Refusals that are not business outcomes: the API answers them as top-level errors (mapped in
 * one place, src/graphql/errors.ts), never as userErrors.
 */

/**
 * A request that cannot be right whatever the data: a malformed id or cursor, a page size out of
 * range, a filter that contradicts itself. The client's code must change (BAD_USER_INPUT).
 */
export class MalformedInputError extends Error {}

/** No one is known to act: no token (UNAUTHENTICATED). */
export class UnauthenticatedError extends Error {
  constructor(message = 'Authentication required: send "Authorization: Bearer <token>"') {
    super(message);
  }
}

/** Who acts may not do this (FORBIDDEN). */
export class ForbiddenError extends Error {
  constructor(message = 'Your role does not allow this operation') {
    super(message);
  }
}
