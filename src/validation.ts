import { DomainError, UserErrorCode } from './errors';

/** Trimmed, non-empty text of bounded length, or a userError naming the field. */
export function requireText(value: string, field: string, maxLength = 200): string {
  const text = value.trim();
  if (text.length === 0 || text.length > maxLength) {
    throw new DomainError(UserErrorCode.INVALID, `${field} must be 1 to ${maxLength} characters`, ['input', field]);
  }
  return text;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function requireEmail(value: string, field = 'email'): string {
  const email = value.trim();
  if (email.length > 320 || !EMAIL.test(email)) {
    throw new DomainError(UserErrorCode.INVALID, `${field} must be an email address`, ['input', field]);
  }
  return email;
}
