import { createHash, timingSafeEqual } from 'node:crypto';
import { randomBase62 } from '../ids';

export const MEMBER_TOKEN_PREFIX = 'tgm_';

export function hashToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A new member token: the secret to show once, its hash to store, a prefix to display. */
export function newMemberToken(): { secret: string; hash: string; prefix: string } {
  const secret = `${MEMBER_TOKEN_PREFIX}${randomBase62(32)}`;
  return { secret, hash: hashToken(secret), prefix: secret.slice(0, MEMBER_TOKEN_PREFIX.length + 6) };
}

export const API_KEY_PREFIX = 'tg_';
/** How much of an API key's secret is kept in clear, to tell keys apart in a list. */
export const API_KEY_DISPLAY_LENGTH = 10;

/** A new gateway API key: the secret to show once, its SHA-256 to store, a prefix to display. */
export function newApiKeySecret(): { secret: string; hash: string; prefix: string } {
  const secret = `${API_KEY_PREFIX}${randomBase62(32)}`;
  return { secret, hash: hashToken(secret), prefix: secret.slice(0, API_KEY_DISPLAY_LENGTH) };
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
