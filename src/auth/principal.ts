import type { EntityManager } from '@mikro-orm/postgresql';
import { MemberRole } from '../../entities';
import { hashToken, matchesAny } from './tokens';

export type Principal =
  | { kind: 'ANONYMOUS' }
  | { kind: 'PLATFORM_ADMIN' }
  | { kind: 'GATEWAY' }
  | { kind: 'MEMBER'; memberId: string; organizationId: string; role: MemberRole; tokenId: string };

export interface AuthSettings {
  adminTokens: readonly string[];
  gatewayTokens: readonly string[];
}

export class InvalidTokenError extends Error {}

/** Reads `Authorization: Bearer <token>`; an unknown or revoked token is an error, not anonymous. */
export async function authenticate(
  em: EntityManager,
  settings: AuthSettings,
  authorization: string | undefined,
): Promise<Principal> {
  if (!authorization) return { kind: 'ANONYMOUS' };
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) throw new InvalidTokenError('The Authorization header must be "Bearer <token>"');
  const token = match[1];
  if (matchesAny(token, settings.adminTokens)) return { kind: 'PLATFORM_ADMIN' };
  if (matchesAny(token, settings.gatewayTokens)) return { kind: 'GATEWAY' };

  const [row] = await em.execute<Array<{ token_id: string; member_id: string; organization_id: string; role: MemberRole }>>(
    `select t.id as token_id, m.id as member_id, m.organization_id, m.role
       from access_tokens t join members m on m.id = t.member_id
      where t.token_hash = ? and t.revoked_at is null and m.removed_at is null`,
    [hashToken(token)],
  );
  if (!row) throw new InvalidTokenError('The access token is invalid or has been revoked');
  return { kind: 'MEMBER', memberId: row.member_id, organizationId: row.organization_id, role: row.role, tokenId: row.token_id };
}

/** Of the given access tokens, those still valid: not revoked, their member not removed. */
export async function stillValidTokens(em: EntityManager, tokenIds: string[]): Promise<Set<string>> {
  if (tokenIds.length === 0) return new Set();
  const rows = await em.execute<Array<{ id: string }>>(
    `select t.id from access_tokens t join members m on m.id = t.member_id
      where t.id in (?) and t.revoked_at is null and m.removed_at is null`,
    [tokenIds],
  );
  return new Set(rows.map((row) => row.id));
}
