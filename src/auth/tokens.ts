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

/** Constant-time membership test for tokens configured in the environment. */
export function matchesAny(candidate: string, tokens: readonly string[]): boolean {
  const digest = createHash('sha256').update(candidate).digest();
  let found = false;
  for (const token of tokens) {
    if (timingSafeEqual(digest, createHash('sha256').update(token).digest())) found = true;
  }
  return found;
}
