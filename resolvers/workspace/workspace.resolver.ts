import { Arg, Args, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import { type Identity, Organization, Wallet, type Workspace } from '../../entities';
import { MANAGERS, requireAdmin, requireAdminOrMember } from '../../src/auth/access';
import type { Context } from '../../src/graphql/context';
import { parseId } from '../../src/ids';
import { workspaceMeters } from '../../src/pricing/meter.service';
import { routingMarkups } from '../../src/pricing/routing-markup.service';
import { createWorkspace, updateWorkspace } from '../../src/workspaces/workspace.service';
import { ApiKeyConnection } from '../api-key/api-key.types';
import { ConnectionArgs, toConnection, withUserErrors } from '../common.types';
import { IdentityConnection, IdentityType } from '../identity/identity.types';
import { OrganizationType } from '../organization/organization.types';
import { WorkspaceMeterType } from '../meter/meter.types';
import { ProjectConnection } from '../project/project.types';
import { RoutingMarkupType } from '../routing-markup/routing-markup.types';
import { WalletType } from '../wallet/wallet.types';
import { WorkspaceCreateInput, WorkspaceCreatePayload, WorkspaceType, WorkspaceUpdateInput, WorkspaceUpdatePayload } from './workspace.types';

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

  @FieldResolver(() => [RoutingMarkupType], { description: "The markup of each routing mode on this workspace's calls (DIRECT: its own markup)" })
  routingMarkups(@Root() workspace: Workspace, @Ctx() ctx: Context) {
    return routingMarkups(ctx, workspace.id);
  }

  @FieldResolver(() => [WorkspaceMeterType], { description: "Each metered extra: the workspace's monthly allowance and this month's count" })
  meters(@Root() workspace: Workspace, @Ctx() ctx: Context) {
    return workspaceMeters(ctx, workspace.id);
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

