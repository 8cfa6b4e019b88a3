import { Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import { type LowBalanceThreshold, type Member, Wallet } from '../../entities';
import { removeLowBalanceThreshold, setLowBalanceThreshold } from '../../src/alerts/low-balance';
import { MANAGERS, requireMember } from '../../src/auth/access';
import type { Context } from '../../src/graphql/context';
import { parseId, parseIds } from '../../src/ids';
import { withUserErrors } from '../common.types';
import { membersOf } from '../member/member.resolver';
import { MemberType } from '../member/member.types';
import { WalletType } from '../wallet/wallet.types';
import {
  LowBalanceThresholdRemoveInput,
  LowBalanceThresholdRemovePayload,
  LowBalanceThresholdSetInput,
  LowBalanceThresholdSetPayload,
  LowBalanceThresholdType,
} from './low-balance-threshold.types';

@Resolver(() => LowBalanceThresholdType)
export class LowBalanceThresholdResolver {
  @FieldResolver(() => WalletType)
  async wallet(@Root() threshold: LowBalanceThreshold, @Ctx() ctx: Context): Promise<Wallet> {
    return (await ctx.loaders.wallet.load(threshold.wallet.id))!;
  }

  @FieldResolver(() => [MemberType], { description: 'The members who receive its alerts' })
  recipients(@Root() threshold: LowBalanceThreshold, @Ctx() ctx: Context): Promise<Member[]> {
    return membersOf(ctx, threshold.recipientMemberIds);
  }

  @Mutation(() => LowBalanceThresholdSetPayload, { description: "Owners and admins: alert members when a wallet's balance falls below an amount" })
  async lowBalanceThresholdSet(@Ctx() ctx: Context, @Arg('input') input: LowBalanceThresholdSetInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    const walletId = parseId('wallet', input.walletId, 'input.walletId');
    const recipientMemberIds = parseIds('member', input.recipientMemberIds, 'input.recipientMemberIds');
    return withUserErrors(ctx, async () => ({
      threshold: await setLowBalanceThreshold(ctx, actor, { ...input, walletId, recipientMemberIds }),
    }));
  }

  @Mutation(() => LowBalanceThresholdRemovePayload, { description: 'Owners and admins: remove a low-balance threshold (its past alerts stay)' })
  async lowBalanceThresholdRemove(@Ctx() ctx: Context, @Arg('input') input: LowBalanceThresholdRemoveInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    const lowBalanceThresholdId = parseId('lowBalanceThreshold', input.lowBalanceThresholdId, 'input.lowBalanceThresholdId');
    return withUserErrors(ctx, async () => ({ removedId: await removeLowBalanceThreshold(ctx, actor, { lowBalanceThresholdId }) }));
  }
}
