import { Arg, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { ApiKey, Identity, Member, Project } from '../../entities';
import { UsageGroup, usageReport, type UsageRow } from '../../src/analytics/usage-report';
import { requireReader } from '../../src/auth/access';
import type { Context } from '../../src/graphql/context';
import { ApiKeyType } from '../api-key/api-key.types';
import { IdentityType } from '../identity/identity.types';
import { MemberType } from '../member/member.types';
import { ProjectType } from '../project/project.types';
import { UsageFilterInput, UsageReportType, UsageRowType } from './usage-report.types';

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

  @FieldResolver(() => MemberType, { nullable: true, description: 'The member who owned the key at the time of the calls (MEMBER groups); null also for keys without an owner' })
  member(@Root() row: UsageRow, @Ctx() ctx: Context): Promise<Member | null> {
    return row.memberId ? ctx.loaders.member.load(row.memberId) : Promise.resolve(null);
  }
}

