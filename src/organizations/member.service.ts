import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AccessToken, Member, MemberRole } from '../../entities';
import type { MemberActor } from '../actor';
import { inTransaction } from '../db/transaction';
import type { Deps } from '../deps';
import { DomainError, ForbiddenError, UserErrorCode } from '../errors';
import { requireEmail, requireText } from '../validation';
import { issueToken } from './organization.service';
import { EVERY_REPLICA, TOPICS } from '../realtime/pubsub';

export interface MemberCreateInput {
  name: string;
  email: string;
  role: MemberRole;
}

/** Only an owner may hand out or take away ownership. */
function assertMayManageRole(actor: MemberActor, role: MemberRole): void {
  if (role === MemberRole.OWNER && actor.role !== MemberRole.OWNER) {
    throw new ForbiddenError('Only an owner may add or remove an owner');
  }
}

/** Serializes membership changes of one organization, so "keep one owner" holds under concurrency. */
async function lockOrganization(tx: EntityManager, organizationId: string): Promise<void> {
  await tx.execute('select id from organizations where id = ? for update', [organizationId]);
}

async function findActiveMember(tx: EntityManager, organizationId: string, memberId: string, field: string) {
  const member = await tx.findOne(Member, { id: memberId, organization: organizationId, removedAt: null });
  if (!member) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such member', ['input', field]);
  return member;
}

export async function createMember({ em }: Pick<Deps, 'em'>, actor: MemberActor, input: MemberCreateInput) {
  const name = requireText(input.name, 'name');
  const email = requireEmail(input.email);
  assertMayManageRole(actor, input.role);
  try {
    return await inTransaction(em, async (tx) => {
      const member = tx.create(Member, { organization: actor.organizationId, name, email, role: input.role });
      await tx.flush();
      return member;
    });
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) {
      throw new DomainError(UserErrorCode.TAKEN, 'A member with this email already exists', ['input', 'email']);
    }
    throw error;
  }
}

/**
 * Removes a member and revokes all of their tokens; the organization always keeps an owner. Open
 * connections of the member, on every replica, are closed once it is committed.
 */
export async function removeMember({ em, bus, now }: Pick<Deps, 'em' | 'bus' | 'now'>, actor: MemberActor, { memberId }: { memberId: string }) {
  const removed = await inTransaction(em, async (tx) => {
    await lockOrganization(tx, actor.organizationId);
    const member = await findActiveMember(tx, actor.organizationId, memberId, 'memberId');
    assertMayManageRole(actor, member.role);
    if (member.role === MemberRole.OWNER) {
      const owners = await tx.count(Member, { organization: actor.organizationId, role: MemberRole.OWNER, removedAt: null });
      if (owners <= 1) {
        throw new DomainError(UserErrorCode.LAST_OWNER, 'The last owner of an organization cannot be removed', ['input', 'memberId']);
      }
    }
    const at = now();
    member.removedAt = at;
    await tx.nativeUpdate(AccessToken, { member, revokedAt: null }, { revokedAt: at });
    await tx.flush();
    return member;
  });
  bus.publish(TOPICS.accessRevoked, EVERY_REPLICA, { tokenIds: [], memberIds: [removed.id] });
  return removed;
}

export async function createMemberToken({ em }: Pick<Deps, 'em'>, actor: MemberActor, { memberId, name }: { memberId: string; name: string }) {
  const tokenName = requireText(name, 'name');
  return inTransaction(em, async (tx) => {
    const member = await findActiveMember(tx, actor.organizationId, memberId, 'memberId');
    assertMayManageRole(actor, member.role);
    const issued = issueToken(tx, member, tokenName);
    await tx.flush();
    return issued;
  });
}

/**
 * Revoking is idempotent: a token already revoked stays revoked and is returned as it is. Its open
 * connections, on every replica, are closed once it is committed.
 */
export async function revokeMemberToken({ em, bus, now }: Pick<Deps, 'em' | 'bus' | 'now'>, actor: MemberActor, { accessTokenId }: { accessTokenId: string }) {
  const revoked = await inTransaction(em, async (tx) => {
    const token = await tx.findOne(AccessToken, { id: accessTokenId, organization: actor.organizationId }, { populate: ['member'] });
    if (!token) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such token', ['input', 'accessTokenId']);
    assertMayManageRole(actor, token.member.role);
    token.revokedAt ??= now();
    await tx.flush();
    return token;
  });
  bus.publish(TOPICS.accessRevoked, EVERY_REPLICA, { tokenIds: [revoked.id], memberIds: [] });
  return revoked;
}
