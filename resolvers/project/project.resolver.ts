import { Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import type { Project, Workspace } from '../../entities';
import { MANAGERS, requireMember } from '../../src/auth/access';
import type { Context } from '../../src/graphql/context';
import { parseId } from '../../src/ids';
import { createProject, updateProject } from '../../src/workspaces/workspace.service';
import { type BudgetOf, budgetOf, BudgetType } from '../budget/budget.types';
import { withUserErrors } from '../common.types';
import { Usage, usageOf } from '../usage/usage.types';
import { WorkspaceType } from '../workspace/workspace.types';
import { ProjectCreateInput, ProjectCreatePayload, ProjectType, ProjectUpdateInput, ProjectUpdatePayload } from './project.types';

@Resolver(() => ProjectType)
export class ProjectResolver {
  @FieldResolver(() => WorkspaceType)
  async workspace(@Root() project: Project, @Ctx() ctx: Context): Promise<Workspace> {
    return (await ctx.loaders.workspace.load(project.workspace.id))!;
  }

  @FieldResolver(() => Usage, { description: "Captured spend of the project's keys in the current periods" })
  async usage(@Root() project: Project, @Ctx() ctx: Context): Promise<Usage> {
    return usageOf(await ctx.loaders.usage.load(project.id));
  }

  @FieldResolver(() => BudgetType, { nullable: true, description: "Most the project's keys may spend together per period; null: no budget" })
  budget(@Root() project: Project): BudgetOf | null {
    return budgetOf(project.id, project.budget, project.budgetPeriod);
  }

  @Mutation(() => ProjectCreatePayload)
  async projectCreate(@Ctx() ctx: Context, @Arg('input') input: ProjectCreateInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    const workspaceId = parseId('workspace', input.workspaceId, 'input.workspaceId');
    return withUserErrors(ctx, async () => ({ project: await createProject(ctx, actor, { ...input, workspaceId }) }));
  }

  @Mutation(() => ProjectUpdatePayload, { description: 'Renames a project or sets its budget' })
  async projectUpdate(@Ctx() ctx: Context, @Arg('input') input: ProjectUpdateInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    const projectId = parseId('project', input.projectId, 'input.projectId');
    return withUserErrors(ctx, async () => ({ project: await updateProject(ctx, actor, { ...input, projectId }) }));
  }
}
