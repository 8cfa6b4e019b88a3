import { Arg, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { ApiKey, Identity, Project, Wallet } from '../entities';
import { autoTopUpPerDay, spendProjection } from '../src/analytics/spend-projection';
import { UsageGroup, type UsageRow, usageReport } from '../src/analytics/usage-report';
import { readScope } from '../src/auth/access';
import { DomainError } from '../src/errors';
import type { Context } from '../src/graphql/context';
import { badUserInput } from '../src/graphql/errors';
import { parseId, parseIds } from '../src/ids';
import { ApiKeyType } from './api-key.types';
import { IdentityType } from './identity.types';
import { SpendProjectionType, UsageFilterInput, UsageReportType, UsageRowType } from './usage-report.types';
import { WalletType } from './wallet.types';
import { ProjectType } from './workspace.types';

@Resolver(() => UsageRowType)
export class UsageReportResolver {
  @Query(() => UsageReportType, { description: 'Gateway spend of your organization, grouped, exact; computed from the ledger' })
  async usage(
    @Ctx() ctx: Context,
    @Arg('filter', () => UsageFilterInput) filter: UsageFilterInput,
    @Arg('groupBy', () => [UsageGroup]) groupBy: UsageGroup[],
  ) {
    const scope = readScope(ctx.principal);
    const organizationId = filter.organizationId ? parseId('organization', filter.organizationId, 'filter.organizationId') : scope;
    if (organizationId === null) throw badUserInput('filter.organizationId: the platform admin names the organization');
    if (scope !== null && organizationId !== scope) throw badUserInput('filter.organizationId: no such organization');
    try {
      return await usageReport(ctx.em, organizationId, {
        ...filter,
        workspaceId: filter.workspaceId ? parseId('workspace', filter.workspaceId, 'filter.workspaceId') : null,
        projectIds: parseIds('project', filter.projectIds, 'filter.projectIds'),
        identityIds: parseIds('identity', filter.identityIds, 'filter.identityIds'),
        apiKeyIds: parseIds('apiKey', filter.apiKeyIds, 'filter.apiKeyIds'),
      }, groupBy);
    } catch (error) {
      // A query has no payload for user errors: bad input is a top-level error naming the field.
      if (error instanceof DomainError) throw badUserInput(`${(error.field ?? []).join('.')}: ${error.message}`);
      throw error;
    }
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
    return spendProjection(ctx.em, wallet, ctx.now(), autoTopUpPerDay(wallet, ctx.autoTopUp.dailyLimit, ctx.stripe !== null));
  }
}
