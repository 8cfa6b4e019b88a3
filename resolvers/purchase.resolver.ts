import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { MANAGERS, requireMember } from '../src/auth/access';
import type { Context } from '../src/graphql/context';
import { parseId } from '../src/graphql/ids';
import { createPurchase } from '../src/payments/purchase.service';
import { withUserErrors } from './common.types';
import { PurchaseCreateInput, PurchaseCreatePayload, PurchaseType } from './purchase.types';

@Resolver(() => PurchaseType)
export class PurchaseResolver {
  @Mutation(() => PurchaseCreatePayload, { description: "Owners and admins: buy credits for a workspace's wallet (minimum $5, bonus by tier)" })
  async purchaseCreate(@Ctx() ctx: Context, @Arg('input') input: PurchaseCreateInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    const workspaceId = parseId('workspace', input.workspaceId, 'input.workspaceId');
    return withUserErrors(ctx, () => createPurchase(ctx, actor.organizationId, { ...input, workspaceId }));
  }
}
