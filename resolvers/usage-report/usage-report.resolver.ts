import { Arg, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { ApiKey, Identity, Project, Wallet } from '../../entities';
import { spendProjection } from '../../src/analytics/spend-projection';
import { UsageGroup, type UsageRow, usageReport } from '../../src/analytics/usage-report';
import { requireReader } from '../../src/auth/access';
import type { Context } from '../../src/graphql/context';
import { ApiKeyType } from '../api-key/api-key.types';
import { IdentityType } from '../identity/identity.types';
import { SpendProjectionType, UsageFilterInput, UsageReportType, UsageRowType } from './usage-report.types';
import { WalletType } from '../wallet/wallet.types';
import { ProjectType } from '../workspace/workspace.types';

@Resolver(() => UsageRowType)
export class UsageReportResolver {
  @Query(() => UsageReportType, { description: 'Gateway spend of your organization, grouped, exact; computed from the ledger' })
  async usage(
    @Ctx() ctx: Context,
    @Arg('filter', () => UsageFilterInput) filter: UsageFilterInput,
    @Arg('groupBy', () => [UsageGroup]) groupBy: UsageGroup[],
  ) {
    return usageReport(ctx, requireReader(ctx.principal), { filter, groupBy });
  }

  @FieldResolver(() => ProjectType, { nullable: true })
  project(@Root() row: UsageRow, @Ctx() ctx: Context): Promise<Project | null> {
    return row.projectId ? ctx.loaders.project.load(row.projectId) : Promise.resolve(null);
  }

  @FieldResolver(() => IdentityType, { nullable: true, description: 'The end user' })
  identity(@Root() row: UsageRow, @Ctx() ctx: Context): Promise<Identity | null> {
    return row.identityId ? ctx.loaders.identity.load(row.identityId) : Promise.resolve(null);
  }

  @FieldResolver(() => ApiKeyType, { nullable: true })
  apiKey(@Root() row: UsageRow, @Ctx() ctx: Context): Promise<ApiKey | null> {
    return row.apiKeyId ? ctx.loaders.apiKey.load(row.apiKeyId) : Promise.resolve(null);
  }
}

@Resolver(() => WalletType)
export class WalletSpendProjectionResolver {
  @FieldResolver(() => SpendProjectionType, { description: 'Average daily gateway spend over the last 7 and 30 days, and when the balance runs out at each rate' })
  spendProjection(@Root() wallet: Wallet, @Ctx() ctx: Context): Promise<SpendProjectionType> {
    return spendProjection(ctx, wallet);
  }
}
