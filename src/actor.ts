import type { MemberPrincipal } from './auth/access';
import type { Principal } from './auth/principal';
import { DomainError, UserErrorCode } from './errors';
import { parseId } from './ids';

/**
 * Who performs a domain operation, the second argument of every service (`(deps, actor, input)`):
 * an organization's member with their role, or the platform admin. A resolver authorizes the
 * request's principal (src/auth/access.ts) and passes the actor it got; a job or the demo seed
 * makes one. A service that only a member may call takes a `MemberActor`.
 */
export type MemberActor = MemberPrincipal;
export type AdminActor = Extract<Principal, { kind: 'PLATFORM_ADMIN' }>;
export type Actor = MemberActor | AdminActor;

export const PLATFORM_ADMIN: AdminActor = { kind: 'PLATFORM_ADMIN' };

/** The organization the actor acts in: a member's own; null for the platform admin, who may act in any. */
export function organizationScope(actor: Actor): string | null {
  return actor.kind === 'MEMBER' ? actor.organizationId : null;
}

/**
 * A member's own organization, which an input may name (`input.organizationId`) to be explicit:
 * any other answers as not found.
 */
export function ownOrganization(actor: MemberActor, requested: string | null | undefined): string {
  if (requested && parseId('organization', requested, 'input.organizationId') !== actor.organizationId) {
    throw new DomainError(UserErrorCode.NOT_FOUND, 'No such organization', ['input', 'organizationId']);
  }
  return actor.organizationId;
}

/** The actor as a ledger row records it. */
export function actorLabel(actor: Actor): string {
  return actor.kind === 'MEMBER' ? `member:${actor.memberId}` : 'admin';
}
