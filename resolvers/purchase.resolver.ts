import { Arg, Args, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import { type Organization, Purchase, PurchaseKind, type Wallet } from '../entities';
import { keysetPage } from '../src/db/keyset';
import { MANAGERS, requireMember } from '../src/auth/access';
import type { Context } from '../src/graphql/context';
import { parseId } from '../src/graphql/ids';
import { createPurchase } from '../src/payments/purchase.service';
import { ConnectionArgs, toConnection, withUserErrors } from './common.types';
import { OrganizationType } from './organization.types';
import { PurchaseConnection, PurchaseCreateInput, PurchaseCreatePayload, PurchaseType } from './purchase.types';
import { WalletType } from './wallet.types';

@Resolver(() => PurchaseType)
export class PurchaseResolver {
  @Mutation(() => PurchaseCreatePayload, { description: "Owners and admins: buy credits for a workspace's wallet (minimum $5, bonus by tier)" })
  async purchaseCreate(@Ctx() ctx: Context, @Arg('input') input: PurchaseCreateInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    const workspaceId = parseId('workspace', input.workspaceId, 'input.workspaceId');
    return withUserErrors(ctx, () => createPurchase(ctx, actor.organizationId, { ...input, workspaceId }));
  }

  @FieldResolver(() => WalletType, { description: 'The wallet the credits went to' })
  async wallet(@Root() purchase: Purchase, @Ctx() ctx: Context): Promise<Wallet> {
    return (await ctx.loaders.wallet.load(purchase.wallet.id))!;
  }
}

@Resolver(() => OrganizationType)
export class OrganizationPurchasesResolver {
  @FieldResolver(() => PurchaseConnection, { description: 'Purchases and automatic top-ups, newest first' })
  async purchases(
    @Root() organization: Organization,
    @Ctx() ctx: Context,
    @Args() page: ConnectionArgs,
    @Arg('kinds', () => [PurchaseKind], { nullable: true, description: 'Only these kinds' }) kinds?: PurchaseKind[] | null,
  ) {
    const where = kinds?.length ? { organization: organization.id, kind: { $in: kinds } } : { organization: organization.id };
    return toConnection(await keysetPage(ctx.em, Purchase, where, page));
  }
}
