import { Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import { Purchase, Wallet } from '../../entities';
import { MANAGERS, requireMember } from '../../src/auth/access';
import type { Context } from '../../src/graphql/context';
import { parseId } from '../../src/ids';
import { createPurchase } from '../../src/payments/purchase.service';
import { withUserErrors } from '../common.types';
import { WalletType } from '../wallet/wallet.types';
import { PurchaseCreateInput, PurchaseCreatePayload, PurchaseType } from './purchase.types';

@Resolver(() => PurchaseType)
export class PurchaseResolver {
  @Mutation(() => PurchaseCreatePayload, { description: "Owners and admins: buy credits for a workspace's wallet (minimum $5, bonus by tier)" })
  async purchaseCreate(@Ctx() ctx: Context, @Arg('input') input: PurchaseCreateInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    const workspaceId = parseId('workspace', input.workspaceId, 'input.workspaceId');
    return withUserErrors(ctx, () => createPurchase(ctx, actor, { ...input, workspaceId }));
  }

  @FieldResolver(() => WalletType, { description: 'The wallet the credits went to' })
  async wallet(@Root() purchase: Purchase, @Ctx() ctx: Context): Promise<Wallet> {
    return (await ctx.loaders.wallet.load(purchase.wallet.id))!;
  }
}

