import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Resolver, Root, Subscription } from 'type-graphql';
import { type ApiKey, type Identity, type Project, Transaction, TransactionType, Wallet, type Workspace } from '../../entities';
import { MoneyScalar } from '../../src/graphql/money.scalar';
import { ApiKeyType } from '../api-key/api-key.types';
import { IdentityType } from '../identity/identity.types';
import { inScope, MANAGERS, readScope, requireAdmin, requireMember } from '../../src/auth/access';
import { badUserInput } from '../../src/graphql/errors';
import type { Context } from '../../src/graphql/context';
import { parseId } from '../../src/ids';
import { adjustWallet, transferBetweenWallets } from '../../src/ledger/wallet-operations';
import { loadTransactions } from '../../src/ledger/ledger';
import { TOPICS, type WalletBalanceEvent } from '../../src/realtime/pubsub';
import { flatMapEvents, latestWithin } from '../../src/realtime/streams';
import { ConnectionArgs, toConnection, withUserErrors } from '../common.types';
import {
  TransactionConnection,
  TransactionFilter,
  TransactionObject,
  WalletAdjustInput,
  WalletAdjustPayload,
  WalletBalanceChange,
  WalletTransferInput,
  WalletTransferPayload,
  WalletType,
} from './wallet.types';
import { ProjectType, WorkspaceType } from '../workspace/workspace.types';

@Resolver(() => WalletType)
export class WalletResolver {
  @FieldResolver(() => MoneyScalar, { description: 'The balance less what active gateway holds reserve: what the gateway may still charge' })
  availableBalance(@Root() wallet: Wallet): bigint {
    return wallet.balance - wallet.held;
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
      const [now] = await ctx.em.execute<Array<{ balance: string; held: string }>>('select balance::text, held::text from wallets where id = ?', [wallet.id]);
      const current: WalletBalanceEvent = {
        walletId: wallet.id,
        organizationId: wallet.organization.id,
        balance: BigInt(now.balance),
        held: BigInt(now.held),
        change: 0n,
        transactionId: null,
      };
      return latestWithin(changes, BALANCE_EVENT_WINDOW_MS, (older, newer) => ({ ...newer, change: older.change + newer.change }), current);
    },
  })
  walletBalanceChanged(@Root() event: WalletBalanceEvent, @Arg('walletId', () => ID) _walletId: string): WalletBalanceChange {
    return { ...event, availableBalance: event.balance - event.held };
  }

  @Subscription(() => TransactionObject, {
    description: 'Each new ledger row of a wallet of your organization, of the given types (all when left out)',
    subscribe: async ({ args, context }) => {
      const ctx = context as Context;
      const wallet = await walletToWatch(ctx, args.walletId as string);
      const types = (args.types as TransactionType[] | null | undefined) ?? null;
      return flatMapEvents(ctx.bus.subscribe(TOPICS.transactionRecorded, wallet.id), ({ transactions }) => {
        const ids = transactions.filter((row) => !types?.length || types.includes(row.type as TransactionType)).map((row) => row.id);
        // A unit of work per event: the subscription's context lives as long as it does.
        return ids.length > 0 ? loadTransactions(ctx.em.fork(), ids) : Promise.resolve([]);
      });
    },
  })
  transactionRecorded(
    @Root() transaction: Transaction,
    @Arg('walletId', () => ID) _walletId: string,
    @Arg('types', () => [TransactionType], { nullable: true }) _types?: TransactionType[] | null,
  ): Transaction {
    return transaction;
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

@Resolver(() => TransactionObject)
export class TransactionResolver {
  @FieldResolver(() => WalletType)
  async wallet(@Root() transaction: Transaction, @Ctx() ctx: Context): Promise<Wallet> {
    return (await ctx.loaders.wallet.load(transaction.wallet.id))!;
  }

  @FieldResolver(() => WalletType, { nullable: true, description: 'The other wallet of a transfer' })
  async counterpartyWallet(@Root() transaction: Transaction, @Ctx() ctx: Context): Promise<Wallet | null> {
    return transaction.counterpartyWallet ? ctx.loaders.wallet.load(transaction.counterpartyWallet.id) : null;
  }

  @FieldResolver(() => ApiKeyType, { nullable: true, description: 'Gateway charges: the API key' })
  apiKey(@Root() transaction: Transaction, @Ctx() ctx: Context): Promise<ApiKey | null> {
    return transaction.apiKeyId ? ctx.loaders.apiKey.load(transaction.apiKeyId) : Promise.resolve(null);
  }

  @FieldResolver(() => IdentityType, { nullable: true, description: 'Gateway charges: the end user, when given' })
  identity(@Root() transaction: Transaction, @Ctx() ctx: Context): Promise<Identity | null> {
    return transaction.identityId ? ctx.loaders.identity.load(transaction.identityId) : Promise.resolve(null);
  }

  @FieldResolver(() => ProjectType, { nullable: true, description: "Gateway charges: the key's project" })
  project(@Root() transaction: Transaction, @Ctx() ctx: Context): Promise<Project | null> {
    return transaction.projectId ? ctx.loaders.project.load(transaction.projectId) : Promise.resolve(null);
  }
}
