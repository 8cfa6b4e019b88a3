import { MemberRole } from '../../entities';
import { type Actor, type AdminActor, type MemberActor, organizationScope } from '../actor';
import { ForbiddenError, UnauthenticatedError } from '../errors';
import type { Principal } from './principal';

export type MemberPrincipal = Extract<Principal, { kind: 'MEMBER' }>;

export const MANAGERS: readonly MemberRole[] = [MemberRole.OWNER, MemberRole.ADMIN];

export function requireAdmin(principal: Principal): AdminActor {
  if (principal.kind === 'ANONYMOUS') throw new UnauthenticatedError();
  if (principal.kind !== 'PLATFORM_ADMIN') throw new ForbiddenError('Only a platform admin may do this');
  return principal;
}

export function requireMember(principal: Principal, roles: readonly MemberRole[]): MemberActor {
  if (principal.kind === 'ANONYMOUS') throw new UnauthenticatedError();
  if (principal.kind !== 'MEMBER') throw new ForbiddenError('Only a member of an organization may do this');
  if (!roles.includes(principal.role)) throw new ForbiddenError(`This needs one of the roles ${roles.join(', ')}`);
  return principal;
}

/** The platform admin, or a member with one of `roles`. */
export function requireAdminOrMember(principal: Principal, roles: readonly MemberRole[]): Actor {
  return principal.kind === 'PLATFORM_ADMIN' ? principal : requireMember(principal, roles);
}

export function requireGateway(principal: Principal): void {
  if (principal.kind === 'ANONYMOUS') throw new UnauthenticatedError();
  if (principal.kind !== 'GATEWAY') throw new ForbiddenError('Only a gateway token may call the gateway operations');
}

/** Who may read: a member of any role, or the platform admin. */
export function requireReader(principal: Principal): Actor {
  if (principal.kind === 'ANONYMOUS') throw new UnauthenticatedError();
  if (principal.kind === 'GATEWAY') throw new ForbiddenError('A gateway token may only call the gateway operations');
  return principal;
}

/**
 * The organization whose data the caller may read: a member's own, or `null` for the
 * platform admin, who may read every organization.
 */
export function readScope(principal: Principal): string | null {
  return organizationScope(requireReader(principal));
}

/** Whether a row of `organizationId` is visible within `scope`. */
export function inScope(scope: string | null, organizationId: string): boolean {
  return scope === null || scope === organizationId;
}
