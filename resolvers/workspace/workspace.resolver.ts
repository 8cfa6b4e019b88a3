import { Arg, Args, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import type { Identity, Organization, Project, Wallet, Workspace } from '../../entities';
import { MANAGERS, requireAdmin, requireAdminOrMember, requireMember } from '../../src/auth/access';
import type { Context } from '../../src/graphql/context';
import { parseId } from '../../src/ids';
import { createProject, createWorkspace, updateProject, updateWorkspace } from '../../src/workspaces/workspace.service';
import { ApiKeyConnection } from '../api-key/api-key.types';
import { ConnectionArgs, toConnection, withUserErrors } from '../common.types';
import { IdentityConnection, IdentityType } from '../identity/identity.types';
import { OrganizationType } from '../organization/organization.types';
import { type BudgetOf, budgetOf, BudgetType } from '../budget/budget.types';
import { Usage, usageOf } from '../usage/usage.types';
import { WalletType } from '../wallet/wallet.types';
import {
  ProjectCreateInput,
  ProjectConnection,
  ProjectCreatePayload,
  ProjectType,
  ProjectUpdateInput,
  ProjectUpdatePayload,
  WorkspaceCreateInput,
  WorkspaceCreatePayload,
  WorkspaceType,
  WorkspaceUpdateInput,
  WorkspaceUpdatePayload,
} from './workspace.types';

@Resolver(() => WorkspaceType)
export class WorkspaceResolver {
  @Mutation(() => WorkspaceCreatePayload, { description: 'A new workspace with its own wallet at zero' })
  async workspaceCreate(@Ctx() ctx: Context, @Arg('input') input: WorkspaceCreateInput) {
    const actor = requireAdminOrMember(ctx.principal, MANAGERS);
    return withUserErrors(ctx, async () => ({ workspace: (await createWorkspace(ctx, actor, input)).workspace }));
  }

  @Mutation(() => WorkspaceUpdatePayload, {
    description: 'Renames a workspace (owners, admins, the platform admin) or sets its markup (the platform admin only)',
  })
  async workspaceUpdate(@Ctx() ctx: Context, @Arg('input') input: WorkspaceUpdateInput) {
    const actor = requireAdminOrMember(ctx.principal, MANAGERS);
    // The markup is the operator's margin on model prices, not the customer's to lower.
    if (input.markupBasisPoints != null) requireAdmin(ctx.principal);
    const workspaceId = parseId('workspace', input.workspaceId, 'input.workspaceId');
    return withUserErrors(ctx, async () => ({ workspace: await updateWorkspace(ctx, actor, { ...input, workspaceId }) }));
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

  @FieldResolver(() => WalletType)
  async wallet(@Root() workspace: Workspace, @Ctx() ctx: Context): Promise<Wallet> {
    return (await ctx.loaders.walletOfWorkspace.load(workspace.id))!;
  }

  @FieldResolver(() => OrganizationType)
  async organization(@Root() workspace: Workspace, @Ctx() ctx: Context): Promise<Organization> {
    return (await ctx.loaders.organization.load(workspace.organization.id))!;
  }

  @FieldResolver(() => ProjectConnection, { description: 'Its projects, oldest first' })
  async projects(@Root() workspace: Workspace, @Ctx() ctx: Context, @Args() page: ConnectionArgs) {
    return toConnection(await ctx.loaders.projectPage.load({ parentId: workspace.id, page: { ...page } }));
  }

  @FieldResolver(() => ApiKeyConnection, { description: 'The API keys of this workspace, revoked ones included, newest first' })
  async apiKeys(@Root() workspace: Workspace, @Ctx() ctx: Context, @Args() page: ConnectionArgs) {
    return toConnection(await ctx.loaders.apiKeyPage.load({ parentId: workspace.id, page: { ...page } }));
  }

  @FieldResolver(() => IdentityConnection, { description: 'The identities of this workspace, newest first' })
  async identities(@Root() workspace: Workspace, @Ctx() ctx: Context, @Args() page: ConnectionArgs) {
    return toConnection(await ctx.loaders.identityPage.load({ parentId: workspace.id, page: { ...page } }));
  }

  @FieldResolver(() => IdentityType, { nullable: true, description: "The identity of the customer's external id, if there is one" })
  identity(@Root() workspace: Workspace, @Ctx() ctx: Context, @Arg('externalId') externalId: string): Promise<Identity | null> {
    return ctx.loaders.identityByExternalId.load(`${workspace.id}\n${externalId}`);
  }
}

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
}
