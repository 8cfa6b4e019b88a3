import { MemberRole } from '../../entities';
import { forbidden, unauthenticated } from '../graphql/errors';
import type { Principal } from './principal';

export type MemberPrincipal = Extract<Principal, { kind: 'MEMBER' }>;

export const MANAGERS: readonly MemberRole[] = [MemberRole.OWNER, MemberRole.ADMIN];

export function requireAdmin(principal: Principal): void {
  if (principal.kind === 'ANONYMOUS') throw unauthenticated();
  if (principal.kind !== 'PLATFORM_ADMIN') throw forbidden('Only a platform admin may do this');
}

export function requireMember(principal: Principal, roles: readonly MemberRole[]): MemberPrincipal {
  if (principal.kind === 'ANONYMOUS') throw unauthenticated();
  if (principal.kind !== 'MEMBER') throw forbidden('Only a member of an organization may do this');
  if (!roles.includes(principal.role)) throw forbidden(`This needs one of the roles ${roles.join(', ')}`);
  return principal;
}

/**
 * The organization whose data the caller may read: a member's own, or `null` for the
 * platform admin, who may read every organization.
 */
export function readScope(principal: Principal): string | null {
  if (principal.kind === 'ANONYMOUS') throw unauthenticated();
  if (principal.kind === 'MEMBER') return principal.organizationId;
  if (principal.kind === 'PLATFORM_ADMIN') return null;
  throw forbidden('A gateway token may only call the gateway operations');
}

/** Whether a row of `organizationId` is visible within `scope`. */
export function inScope(scope: string | null, organizationId: string): boolean {
  return scope === null || scope === organizationId;
}
