import { Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import type { Identity, Workspace } from '../../entities';
import { MANAGERS, requireMember } from '../../src/auth/access';
import type { Context } from '../../src/graphql/context';
import { parseId } from '../../src/ids';
import { upsertIdentity } from '../../src/keys/identity.service';
import { withUserErrors } from '../common.types';
import { IdentityType, IdentityUpsertInput, IdentityUpsertPayload } from './identity.types';
import { type BudgetOf, budgetOf, BudgetType } from '../budget/budget.types';
import { Usage, usageOf } from '../usage/usage.types';
import { WorkspaceType } from '../workspace/workspace.types';

@Resolver(() => IdentityType)
export class IdentityResolver {
  @Mutation(() => IdentityUpsertPayload, {
    description: 'Creates the identity of an external id in a workspace, or sets its budget; safe to repeat and to run concurrently',
  })
  async identityUpsert(@Ctx() ctx: Context, @Arg('input') input: IdentityUpsertInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    const workspaceId = parseId('workspace', input.workspaceId, 'input.workspaceId');
    return withUserErrors(ctx, async () => ({ identity: await upsertIdentity(ctx, actor, { ...input, workspaceId }) }));
  }

  @FieldResolver(() => WorkspaceType)
  async workspace(@Root() identity: Identity, @Ctx() ctx: Context): Promise<Workspace> {
    return (await ctx.loaders.workspace.load(identity.workspace.id))!;
  }

  @FieldResolver(() => Usage)
  async usage(@Root() identity: Identity, @Ctx() ctx: Context): Promise<Usage> {
    return usageOf(await ctx.loaders.usage.load(identity.id));
  }

  @FieldResolver(() => BudgetType, { nullable: true, description: 'Most the identity may spend per period; null: no budget' })
  budget(@Root() identity: Identity): BudgetOf | null {
    return budgetOf(identity.id, identity.budget, identity.budgetPeriod);
  }
}
