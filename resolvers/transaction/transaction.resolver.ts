import { RoutingMode } from '../../src/gateway/contract';
import { Arg, Ctx, FieldResolver, ID, Resolver, Root, Subscription } from 'type-graphql';
import { type ApiKey, type Identity, type Project, Transaction, TransactionType, Wallet } from '../../entities';
import type { Context } from '../../src/graphql/context';
import { loadTransactions } from '../../src/ledger/ledger';
import { TOPICS } from '../../src/realtime/pubsub';
import { flatMapEvents } from '../../src/realtime/streams';
import { ApiKeyType } from '../api-key/api-key.types';
import { IdentityType } from '../identity/identity.types';
import { ProjectType } from '../project/project.types';
import { walletToWatch } from '../wallet/wallet.resolver';
import { WalletType } from '../wallet/wallet.types';
import { TransactionObject } from './transaction.types';

@Resolver(() => TransactionObject)
export class TransactionResolver {
  // A model call's row stores these only where they differ from the default (src/ledger/ledger.ts).
  @FieldResolver(() => RoutingMode, { nullable: true, description: 'Model calls: how the model was chosen' })
  routingMode(@Root() transaction: Transaction): RoutingMode | null {
    if (!transaction.model) return null;
    return (transaction.routingMode as RoutingMode | null) ?? RoutingMode.DIRECT;
  }

  @FieldResolver(() => Boolean, { nullable: true, description: "Model calls: the provider reported the cost (else the catalog's price of the usage)" })
  providerReported(@Root() transaction: Transaction): boolean | null {
    return transaction.model ? (transaction.providerReported ?? false) : null;
  }

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
