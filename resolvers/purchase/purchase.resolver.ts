import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Resolver, Root, Subscription } from 'type-graphql';
import { type Organization, type PaymentMethod, Purchase, PurchaseKind, Wallet } from '../../entities';
import { MANAGERS, requireMember } from '../../src/auth/access';
import type { Context } from '../../src/graphql/context';
import { parseId } from '../../src/ids';
import { updateAutoTopUp } from '../../src/payments/auto-top-up.service';
import { removeCard, setDefaultCard, startCardSetup } from '../../src/payments/payment-methods.service';
import { createPurchase } from '../../src/payments/purchase.service';
import { type AutoTopUpEvent, TOPICS } from '../../src/realtime/pubsub';
import { ConnectionArgs, toConnection, withUserErrors } from '../common.types';
import { OrganizationType } from '../organization/organization.types';
import {
  AutoTopUpEventType,
  AutoTopUpType,
  AutoTopUpUpdateInput,
  AutoTopUpUpdatePayload,
  PaymentMethodRemoveInput,
  PaymentMethodRemovePayload,
  PaymentMethodSetDefaultInput,
  PaymentMethodSetDefaultPayload,
  PaymentMethodSetupStartInput,
  PaymentMethodSetupStartPayload,
  PaymentMethodType,
  PurchaseConnection,
  PurchaseCreateInput,
  PurchaseCreatePayload,
  PurchaseType,
} from './purchase.types';
import { walletToWatch } from '../wallet/wallet.resolver';
import { WalletType } from '../wallet/wallet.types';

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

@Resolver(() => PaymentMethodType)
export class PaymentMethodResolver {
  @Mutation(() => PaymentMethodSetupStartPayload, { description: 'Owners and admins: start saving a card (the dashboard completes it with Stripe.js)' })
  async paymentMethodSetupStart(@Ctx() ctx: Context, @Arg('input') input: PaymentMethodSetupStartInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    return withUserErrors(ctx, async () => ({ clientSecret: await startCardSetup(ctx, actor, input) }));
  }

  @Mutation(() => PaymentMethodSetDefaultPayload)
  async paymentMethodSetDefault(@Ctx() ctx: Context, @Arg('input') input: PaymentMethodSetDefaultInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    return withUserErrors(ctx, async () => ({ paymentMethod: await setDefaultCard(ctx, actor, input) }));
  }

  @Mutation(() => PaymentMethodRemovePayload)
  async paymentMethodRemove(@Ctx() ctx: Context, @Arg('input') input: PaymentMethodRemoveInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    return withUserErrors(ctx, async () => ({ removedId: await removeCard(ctx, actor, input) }));
  }
}

@Resolver(() => WalletType)
export class AutoTopUpResolver {
  @FieldResolver(() => AutoTopUpType)
  autoTopUp(@Root() wallet: Wallet): AutoTopUpType {
    return {
      enabled: wallet.autoTopUpEnabled,
      threshold: wallet.autoTopUpThreshold ?? null,
      amount: wallet.autoTopUpAmount ?? null,
      disabledReason: wallet.autoTopUpDisabledReason ?? null,
    };
  }

  @Subscription(() => AutoTopUpEventType, {
    description: "The steps of a wallet's auto top-ups: started, succeeded, failed (an attempt declined), disabled",
    subscribe: async ({ args, context }) => {
      const ctx = context as Context;
      const wallet = await walletToWatch(ctx, args.walletId as string);
      return ctx.bus.subscribe(TOPICS.autoTopUp, wallet.id);
    },
  })
  autoTopUpEvent(@Root() event: AutoTopUpEvent, @Arg('walletId', () => ID) _walletId: string): AutoTopUpEvent {
    return event;
  }

  @Mutation(() => AutoTopUpUpdatePayload, { description: "Owners and admins: a wallet's auto top-up (needs a saved card to turn on)" })
  async autoTopUpUpdate(@Ctx() ctx: Context, @Arg('input') input: AutoTopUpUpdateInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    const walletId = parseId('wallet', input.walletId, 'input.walletId');
    return withUserErrors(ctx, async () => ({ wallet: await updateAutoTopUp(ctx, actor, { ...input, walletId }) }));
  }
}

/** An auto top-up event's objects, read for this event alone in a unit of work of its own (the subscription's context lives as long as it does). */
@Resolver(() => AutoTopUpEventType)
export class AutoTopUpEventResolver {
  @FieldResolver(() => WalletType)
  wallet(@Root() event: AutoTopUpEvent, @Ctx() ctx: Context): Promise<Wallet> {
    return ctx.em.fork().findOneOrFail(Wallet, event.walletId);
  }

  @FieldResolver(() => PurchaseType)
  purchase(@Root() event: AutoTopUpEvent, @Ctx() ctx: Context): Promise<Purchase> {
    return ctx.em.fork().findOneOrFail(Purchase, event.purchaseId);
  }
}

@Resolver(() => OrganizationType)
export class OrganizationPurchasesResolver {
  @FieldResolver(() => [PaymentMethodType], { description: 'Saved cards, oldest first' })
  paymentMethods(@Root() organization: Organization, @Ctx() ctx: Context): Promise<PaymentMethod[]> {
    return ctx.loaders.paymentMethodsOfOrganization.load(organization.id);
  }

  @FieldResolver(() => PurchaseConnection, { description: 'Purchases and automatic top-ups, newest first' })
  async purchases(
    @Root() organization: Organization,
    @Ctx() ctx: Context,
    @Args() page: ConnectionArgs,
    @Arg('kinds', () => [PurchaseKind], { nullable: true, description: 'Only these kinds' }) kinds?: PurchaseKind[] | null,
  ) {
    return toConnection(await ctx.loaders.purchasePage.load({ parentId: organization.id, page: { ...page }, filter: kinds ?? null }));
  }
}
