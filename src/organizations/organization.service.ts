import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AccessToken, Member, MemberRole, Organization } from '../../entities';
import type { AdminActor } from '../actor';
import { newMemberToken } from '../auth/tokens';
import { inTransaction } from '../db/transaction';
import type { Deps } from '../deps';
import { DomainError, UserErrorCode } from '../errors';
import { requireEmail, requireText } from '../validation';

export interface OrganizationCreateInput {
  name: string;
  ownerName: string;
  ownerEmail: string;
}

/** Creates an organization with its owner and the owner's first token (shown once). */
export async function createOrganization({ em }: Pick<Deps, 'em'>, _admin: AdminActor, input: OrganizationCreateInput) {
  const name = requireText(input.name, 'name');
  const ownerName = requireText(input.ownerName, 'ownerName');
  const ownerEmail = requireEmail(input.ownerEmail, 'ownerEmail');
  try {
    return await inTransaction(em, async (tx) => {
      const organization = tx.create(Organization, { name });
      const owner = tx.create(Member, { organization, name: ownerName, email: ownerEmail, role: MemberRole.OWNER });
      const { token, secret } = issueToken(tx, owner, 'Owner token');
      await tx.flush();
      return { organization, owner, token, secret };
    });
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) {
      throw new DomainError(UserErrorCode.TAKEN, 'An organization with this name already exists', ['input', 'name']);
    }
    throw error;
  }
}

/** Adds a new access token for `member` to the unit of work; the secret exists only in the result. */
export function issueToken(tx: EntityManager, member: Member, name: string) {
  const { secret, hash, prefix } = newMemberToken();
  const token = tx.create(AccessToken, { member, organization: member.organization, name, tokenHash: hash, prefix });
  return { token, secret };
}
