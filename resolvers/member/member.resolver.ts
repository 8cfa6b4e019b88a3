import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import type { Member } from '../../entities';
import { MANAGERS, requireMember } from '../../src/auth/access';
import type { Context } from '../../src/graphql/context';
import { parseId } from '../../src/ids';
import { createMember, createMemberToken, removeMember, revokeMemberToken } from '../../src/organizations/member.service';
import { withUserErrors } from '../common.types';
import {
  MemberCreateInput,
  MemberCreatePayload,
  MemberRemoveInput,
  MemberRemovePayload,
  MemberTokenCreateInput,
  MemberTokenCreatePayload,
  MemberTokenRevokeInput,
  MemberTokenRevokePayload,
  MemberType,
} from './member.types';

@Resolver(() => MemberType)
export class MemberResolver {
  @Mutation(() => MemberCreatePayload)
  async memberCreate(@Ctx() ctx: Context, @Arg('input') input: MemberCreateInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    return withUserErrors(ctx, async () => ({ member: await createMember(ctx, actor, input) }));
  }

  @Mutation(() => MemberRemovePayload, { description: "Removes a member and revokes the member's tokens" })
  async memberRemove(@Ctx() ctx: Context, @Arg('input') input: MemberRemoveInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    const memberId = parseId('member', input.memberId, 'input.memberId');
    return withUserErrors(ctx, async () => {
      const member = await removeMember(ctx, actor, { memberId });
      return { member, removedId: member.id };
    });
  }

  @Mutation(() => MemberTokenCreatePayload)
  async memberTokenCreate(@Ctx() ctx: Context, @Arg('input') input: MemberTokenCreateInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    const memberId = parseId('member', input.memberId, 'input.memberId');
    return withUserErrors(ctx, () => createMemberToken(ctx, actor, { ...input, memberId }));
  }

  @Mutation(() => MemberTokenRevokePayload)
  async memberTokenRevoke(@Ctx() ctx: Context, @Arg('input') input: MemberTokenRevokeInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    const accessTokenId = parseId('accessToken', input.accessTokenId, 'input.accessTokenId');
    return withUserErrors(ctx, async () => ({ token: await revokeMemberToken(ctx, actor, { accessTokenId }) }));
  }
}

/** The members of a list of ids that still exist, in its order. */
export async function membersOf(ctx: Context, memberIds: string[]): Promise<Member[]> {
  const members = await ctx.loaders.member.loadMany(memberIds);
  return members.filter((member): member is Member => member !== null && !(member instanceof Error));
}
