import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Resolver, Root, Subscription } from 'type-graphql';
import type { Transaction, Wallet, Workspace } from '../entities';
import { inScope, MANAGERS, readScope, requireAdmin, requireMember } from '../src/auth/access';
import { badUserInput } from '../src/graphql/errors';
import type { Context } from '../src/graphql/context';
import { parseId } from '../src/graphql/ids';
import { listTransactions } from '../src/ledger/transaction-history';
import { adjustWallet, transferBetweenWallets } from '../src/ledger/wallet-operations';
import { TOPICS, type WalletBalanceEvent } from '../src/realtime/pubsub';
import { ConnectionArgs, toConnection, withUserErrors } from './common.types';
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
import { WorkspaceType } from './workspace.types';

@Resolver(() => WalletType)
export class WalletResolver {
  @FieldResolver(() => TransactionConnection, { description: 'The ledger of this wallet, newest first' })
  async transactions(
    @Root() wallet: Wallet,
    @Ctx() ctx: Context,
    @Args() page: ConnectionArgs,
    @Arg('filter', () => TransactionFilter, { nullable: true }) filter?: TransactionFilter | null,
  ) {
    return toConnection(await listTransactions(ctx.em, wallet.id, page, filter ?? {}));
  }

  @FieldResolver(() => WorkspaceType)
  async workspace(@Root() wallet: Wallet, @Ctx() ctx: Context): Promise<Workspace> {
    return (await ctx.loaders.workspace.load(wallet.workspace.id))!;
  }

  @Mutation(() => WalletAdjustPayload, { description: 'Platform admin: a MANUAL credit or debit' })
  async walletAdjust(@Ctx() ctx: Context, @Arg('input') input: WalletAdjustInput) {
    requireAdmin(ctx.principal);
    const walletId = parseId('wallet', input.walletId, 'input.walletId');
    return withUserErrors(ctx, async () => ({ transaction: await adjustWallet(ctx.em, ctx.bus, { ...input, walletId }) }));
  }

  @Mutation(() => WalletTransferPayload, { description: 'Moves credits between two workspaces of one organization' })
  async walletTransfer(@Ctx() ctx: Context, @Arg('input') input: WalletTransferInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    const fromWalletId = parseId('wallet', input.fromWalletId, 'input.fromWalletId');
    const toWalletId = parseId('wallet', input.toWalletId, 'input.toWalletId');
    return withUserErrors(ctx, () =>
      transferBetweenWallets(ctx.em, ctx.bus, actor.organizationId, `member:${actor.memberId}`, { ...input, fromWalletId, toWalletId }),
    );
  }

  @Subscription(() => WalletBalanceChange, {
    description: 'Every committed change of the balance of a wallet of your organization',
    subscribe: async ({ args, context }) => {
      const ctx = context as Context;
      const scope = readScope(ctx.principal);
      const walletId = parseId('wallet', args.walletId as string, 'walletId');
      const wallet = await ctx.loaders.wallet.load(walletId);
      if (!wallet || !inScope(scope, wallet.organization.id)) throw badUserInput('walletId: no such wallet');
      return ctx.bus.subscribe(TOPICS.walletBalanceChanged, walletId);
    },
  })
  walletBalanceChanged(@Root() event: WalletBalanceEvent, @Arg('walletId', () => ID) _walletId: string): WalletBalanceEvent {
    return event;
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
}
