import { Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import type { ApiKey, Member, Project, Workspace } from '../../entities';
import { MANAGERS, requireMember } from '../../src/auth/access';
import type { Context } from '../../src/graphql/context';
import { parseId } from '../../src/ids';
import { createApiKey, revokeApiKey, updateApiKey } from '../../src/keys/api-key.service';
import { budgetOf, type BudgetOf, BudgetType, TokenBudgetType } from '../budget/budget.types';
import { MemberType } from '../member/member.types';
import { withUserErrors } from '../common.types';
import { ProjectType } from '../project/project.types';
import { Usage, usageOf } from '../usage/usage.types';
import { WorkspaceType } from '../workspace/workspace.types';
import {
  ApiKeyCreateInput,
  ApiKeyCreatePayload,
  ApiKeyRevokeInput,
  ApiKeyRevokePayload,
  ApiKeyType,
  ApiKeyUpdateInput,
  ApiKeyUpdatePayload,
} from './api-key.types';

/** An optional input id: checked when given, kept as null or undefined otherwise. */
function optionalId(kind: 'project' | 'member', value: string | null | undefined, argument: string): string | null | undefined {
  return value == null ? value : parseId(kind, value, argument);
}

@Resolver(() => ApiKeyType)
export class ApiKeyResolver {
  @Mutation(() => ApiKeyCreatePayload, { description: "A new key for the gateway; its secret is in the payload and nowhere else" })
  async apiKeyCreate(@Ctx() ctx: Context, @Arg('input') input: ApiKeyCreateInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    const workspaceId = parseId('workspace', input.workspaceId, 'input.workspaceId');
    const projectId = optionalId('project', input.projectId, 'input.projectId');
    const ownerMemberId = optionalId('member', input.ownerMemberId, 'input.ownerMemberId');
    return withUserErrors(ctx, () => createApiKey(ctx, actor, { ...input, workspaceId, projectId, ownerMemberId }));
  }

  @Mutation(() => ApiKeyUpdatePayload, {
    description: "Changes a key's name, project, owner or limits: left-out fields stay, null removes a limit, the project or the expiry",
  })
  async apiKeyUpdate(@Ctx() ctx: Context, @Arg('input') input: ApiKeyUpdateInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    const apiKeyId = parseId('apiKey', input.apiKeyId, 'input.apiKeyId');
    const projectId = optionalId('project', input.projectId, 'input.projectId');
    const ownerMemberId = optionalId('member', input.ownerMemberId, 'input.ownerMemberId');
    return withUserErrors(ctx, async () => ({ apiKey: await updateApiKey(ctx, actor, { ...input, apiKeyId, projectId, ownerMemberId }) }));
  }

  @Mutation(() => ApiKeyRevokePayload, { description: 'The gateway refuses the key from now on; revoking again changes nothing' })
  async apiKeyRevoke(@Ctx() ctx: Context, @Arg('input') input: ApiKeyRevokeInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    const apiKeyId = parseId('apiKey', input.apiKeyId, 'input.apiKeyId');
    return withUserErrors(ctx, async () => ({ apiKey: await revokeApiKey(ctx, actor, { apiKeyId }) }));
  }

  @FieldResolver(() => WorkspaceType)
  async workspace(@Root() apiKey: ApiKey, @Ctx() ctx: Context): Promise<Workspace> {
    return (await ctx.loaders.workspace.load(apiKey.workspace.id))!;
  }

  @FieldResolver(() => ProjectType, { nullable: true, description: 'The project whose budget the key spends from' })
  async project(@Root() apiKey: ApiKey, @Ctx() ctx: Context): Promise<Project | null> {
    return apiKey.project ? ctx.loaders.project.load(apiKey.project.id) : null;
  }

  @FieldResolver(() => MemberType, { nullable: true, description: 'The member the key belongs to, whom its calls count for; null for keys made before keys had owners' })
  async owner(@Root() apiKey: ApiKey, @Ctx() ctx: Context): Promise<Member | null> {
    return apiKey.owner ? ctx.loaders.member.load(apiKey.owner.id) : null;
  }

  @FieldResolver(() => Usage)
  async usage(@Root() apiKey: ApiKey, @Ctx() ctx: Context): Promise<Usage> {
    return usageOf(await ctx.loaders.usage.load(apiKey.id));
  }

  @FieldResolver(() => BudgetType, { nullable: true, description: 'Most the key may spend per period; null: no budget' })
  budget(@Root() apiKey: ApiKey): BudgetOf | null {
    return budgetOf(apiKey.id, apiKey.costLimit, apiKey.limitPeriod);
  }

  @FieldResolver(() => TokenBudgetType, { nullable: true, description: 'Most tokens (input + output) the key may use per period; null: no token budget' })
  tokenBudget(@Root() apiKey: ApiKey): BudgetOf | null {
    return budgetOf(apiKey.id, apiKey.tokenLimit, apiKey.limitPeriod);
  }
}
