import { createHash, timingSafeEqual } from 'node:crypto';
import { randomBase62 } from '../ids';

export const MEMBER_TOKEN_PREFIX = 'tgm_';

export function hashToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A new secret: the secret to show once, its SHA-256 to store, its first characters to display. */
function newSecret(prefix: string, displayLength: number): { secret: string; hash: string; prefix: string } {
  const secret = `${prefix}${randomBase62(32)}`;
  return { secret, hash: hashToken(secret), prefix: secret.slice(0, displayLength) };
}

export function newMemberToken() {
  return newSecret(MEMBER_TOKEN_PREFIX, MEMBER_TOKEN_PREFIX.length + 6);
}

export const API_KEY_PREFIX = 'tg_';
/** How much of an API key's secret is kept in clear, to tell keys apart in a list. */
export const API_KEY_DISPLAY_LENGTH = 10;

export function newApiKeySecret() {
  return newSecret(API_KEY_PREFIX, API_KEY_DISPLAY_LENGTH);
}

/** Constant-time membership test for tokens configured in the environment. */
export function matchesAny(candidate: string, tokens: readonly string[]): boolean {
  const digest = createHash('sha256').update(candidate).digest();
  let found = false;
  for (const token of tokens) {
    if (timingSafeEqual(digest, createHash('sha256').update(token).digest())) found = true;
  }
  return found;
}
