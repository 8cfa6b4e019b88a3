import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Resolver, Root, Subscription } from 'type-graphql';
import { type LowBalanceThreshold, Purchase, Transaction, Wallet, type Workspace } from '../../entities';
import { spendProjection } from '../../src/analytics/spend-projection';
import { inScope, MANAGERS, readScope, requireAdmin, requireMember } from '../../src/auth/access';
import type { Context } from '../../src/graphql/context';
import { badUserInput } from '../../src/graphql/errors';
import { MoneyScalar } from '../../src/graphql/money.scalar';
import { parseId } from '../../src/ids';
import { adjustWallet, transferBetweenWallets } from '../../src/ledger/wallet-operations';
import { updateAutoTopUp } from '../../src/payments/auto-top-up.service';
import { type AutoTopUpEvent, TOPICS, type WalletBalanceEvent } from '../../src/realtime/pubsub';
import { latestWithin } from '../../src/realtime/streams';
import { ConnectionArgs, toConnection, withUserErrors } from '../common.types';
import { LowBalanceThresholdType } from '../low-balance-threshold/low-balance-threshold.types';
import { PurchaseType } from '../purchase/purchase.types';
import { TransactionConnection, TransactionFilter, TransactionObject } from '../transaction/transaction.types';
import { WorkspaceType } from '../workspace/workspace.types';
import { AutoTopUpEventType, AutoTopUpType, AutoTopUpUpdateInput, AutoTopUpUpdatePayload } from './auto-top-up.types';
import { SpendProjectionType } from './spend-projection.types';
import { WalletAdjustInput, WalletAdjustPayload, WalletBalanceChange, WalletTransferInput, WalletTransferPayload, WalletType } from './wallet.types';

@Resolver(() => WalletType)
export class WalletResolver {
  @FieldResolver(() => MoneyScalar, {
    description: "The balance less what active gateway holds reserve, plus the organization's credit line: what the gateway may still charge",
  })
  async availableBalance(@Root() wallet: Wallet, @Ctx() ctx: Context): Promise<bigint> {
    const organization = await ctx.loaders.organization.load(wallet.organization.id);
    return wallet.balance - wallet.held + organization!.creditLimit;
  }

  @FieldResolver(() => TransactionConnection, { description: 'The ledger of this wallet, newest first' })
  async transactions(
    @Root() wallet: Wallet,
    @Ctx() ctx: Context,
    @Args() page: ConnectionArgs,
    @Arg('filter', () => TransactionFilter, { nullable: true }) filter?: TransactionFilter | null,
  ) {
    return toConnection(await ctx.loaders.transactionPage.load({ parentId: wallet.id, page: { ...page }, filter: { ...filter } }));
  }

  @FieldResolver(() => WorkspaceType)
  async workspace(@Root() wallet: Wallet, @Ctx() ctx: Context): Promise<Workspace> {
    return (await ctx.loaders.workspace.load(wallet.workspace.id))!;
  }

  @Mutation(() => WalletAdjustPayload, { description: 'Platform admin: a MANUAL credit or debit' })
  async walletAdjust(@Ctx() ctx: Context, @Arg('input') input: WalletAdjustInput) {
    const admin = requireAdmin(ctx.principal);
    const walletId = parseId('wallet', input.walletId, 'input.walletId');
    return withUserErrors(ctx, async () => ({ transaction: await adjustWallet(ctx, admin, { ...input, walletId }) }));
  }

  @Mutation(() => WalletTransferPayload, { description: 'Moves credits between two workspaces of one organization' })
  async walletTransfer(@Ctx() ctx: Context, @Arg('input') input: WalletTransferInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    const fromWalletId = parseId('wallet', input.fromWalletId, 'input.fromWalletId');
    const toWalletId = parseId('wallet', input.toWalletId, 'input.toWalletId');
    return withUserErrors(ctx, () => transferBetweenWallets(ctx, actor, { ...input, fromWalletId, toWalletId }));
  }

  @Subscription(() => WalletBalanceChange, {
    description: 'The balance of a wallet of your organization: now, then after every committed change',
    subscribe: async ({ args, context }) => {
      const ctx = context as Context;
      const wallet = await walletToWatch(ctx, args.walletId as string);
      // Subscribed before the balance is read, so that no change falls between the two.
      const changes = ctx.bus.subscribe(TOPICS.walletBalanceChanged, wallet.id);
      // The balance the subscription starts from, read once it listens.
      const current = async (): Promise<WalletBalanceEvent> => {
        const [now] = await ctx.em.execute<Array<{ balance: string; held: string; credit_limit: string }>>(
          'select w.balance::text, w.held::text, o.credit_limit::text from wallets w join organizations o on o.id = w.organization_id where w.id = ?',
          [wallet.id],
        );
        return {
          walletId: wallet.id,
          organizationId: wallet.organization.id,
          balance: BigInt(now.balance),
          held: BigInt(now.held),
          creditLimit: BigInt(now.credit_limit),
          change: 0n,
          transactionId: null,
        };
      };
      return latestWithin(changes, BALANCE_EVENT_WINDOW_MS, (older, newer) => ({ ...newer, change: older.change + newer.change }), current);
    },
  })
  walletBalanceChanged(@Root() event: WalletBalanceEvent, @Arg('walletId', () => ID) _walletId: string): WalletBalanceChange {
    return { ...event, availableBalance: event.balance - event.held + event.creditLimit };
  }

  @FieldResolver(() => [LowBalanceThresholdType], { description: 'Its low-balance thresholds, highest first' })
  lowBalanceThresholds(@Root() wallet: Wallet, @Ctx() ctx: Context): Promise<LowBalanceThreshold[]> {
    return ctx.loaders.lowBalanceThresholdsOfWallet.load(wallet.id);
  }

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

  @FieldResolver(() => SpendProjectionType, {
    description: 'Average daily gateway spend over the last 7 and 30 days, and when the available balance (with the credit line) runs out at each rate',
  })
  async spendProjection(@Root() wallet: Wallet, @Ctx() ctx: Context): Promise<SpendProjectionType> {
    const organization = await ctx.loaders.organization.load(wallet.organization.id);
    return spendProjection(ctx, wallet, organization!.creditLimit);
  }
}

/** Changes within this window reach a subscriber as one event. */
const BALANCE_EVENT_WINDOW_MS = 100;

/** The wallet a subscription may watch: one of the caller's organization (any member role). */
export async function walletToWatch(ctx: Context, rawId: string): Promise<Wallet> {
  const scope = readScope(ctx.principal);
  const walletId = parseId('wallet', rawId, 'walletId');
  const wallet = await ctx.loaders.wallet.load(walletId);
  if (!wallet || !inScope(scope, wallet.organization.id)) throw badUserInput('walletId: no such wallet');
  return wallet;
}

@Resolver(() => WalletBalanceChange)
export class WalletBalanceChangeResolver {
  @FieldResolver(() => WalletType, { description: 'The wallet as the change left it, so that a normalized cache (Apollo, Relay, urql) updates by itself' })
  async wallet(@Root() change: WalletBalanceEvent, @Ctx() ctx: Context): Promise<Wallet> {
    // Read for this event alone, in a unit of work of its own (the subscription's context lives as
    // long as it does), with the balance this event reports rather than a later one.
    const wallet = await ctx.em.fork().findOneOrFail(Wallet, change.walletId);
    return Object.assign(wallet, { balance: change.balance, held: change.held });
  }

  @FieldResolver(() => TransactionObject, { nullable: true, description: 'The transaction that caused it (the last one, when merged)' })
  async transaction(@Root() change: WalletBalanceChange, @Ctx() ctx: Context): Promise<Transaction | null> {
    // Per event, as `wallet` above.
    return change.transactionId ? ctx.em.fork().findOne(Transaction, change.transactionId) : null;
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
