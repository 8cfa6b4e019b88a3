import { Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import type { Organization, Project, Wallet, Workspace } from '../entities';
import { MANAGERS, requireMember } from '../src/auth/access';
import { DomainError, UserErrorCode } from '../src/errors';
import { badUserInput, unauthenticated } from '../src/graphql/errors';
import type { Context } from '../src/graphql/context';
import { parseId } from '../src/graphql/ids';
import { createProject, createWorkspace } from '../src/workspaces/workspace.service';
import { withUserErrors } from './common.types';
import { OrganizationType } from './organization.types';
import { WalletType } from './wallet.types';
import {
  ProjectCreateInput,
  ProjectCreatePayload,
  ProjectType,
  WorkspaceCreateInput,
  WorkspaceCreatePayload,
  WorkspaceType,
} from './workspace.types';

/** The organization a new workspace goes into: the admin names it, a manager uses their own. */
function workspaceOrganization(ctx: Context, requested: string | null | undefined): string {
  if (ctx.principal.kind === 'PLATFORM_ADMIN') {
    if (!requested) throw badUserInput('input.organizationId is required for the platform admin');
    return parseId('organization', requested, 'input.organizationId');
  }
  if (ctx.principal.kind === 'ANONYMOUS') throw unauthenticated();
  const actor = requireMember(ctx.principal, MANAGERS);
  if (requested && parseId('organization', requested, 'input.organizationId') !== actor.organizationId) {
    throw new DomainError(UserErrorCode.NOT_FOUND, 'No such organization', ['input', 'organizationId']);
  }
  return actor.organizationId;
}

@Resolver(() => WorkspaceType)
export class WorkspaceResolver {
  @Mutation(() => WorkspaceCreatePayload, { description: 'A new workspace with its own wallet at zero' })
  async workspaceCreate(@Ctx() ctx: Context, @Arg('input') input: WorkspaceCreateInput) {
    return withUserErrors(ctx, async () => {
      const organizationId = workspaceOrganization(ctx, input.organizationId);
      return { workspace: (await createWorkspace(ctx.em, organizationId, input.name)).workspace };
    });
  }

  @Mutation(() => ProjectCreatePayload)
  async projectCreate(@Ctx() ctx: Context, @Arg('input') input: ProjectCreateInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    const workspaceId = parseId('workspace', input.workspaceId, 'input.workspaceId');
    return withUserErrors(ctx, async () => ({ project: await createProject(ctx.em, actor.organizationId, workspaceId, input.name) }));
  }

  @FieldResolver(() => WalletType)
  async wallet(@Root() workspace: Workspace, @Ctx() ctx: Context): Promise<Wallet> {
    return (await ctx.loaders.walletOfWorkspace.load(workspace.id))!;
  }

  @FieldResolver(() => OrganizationType)
  async organization(@Root() workspace: Workspace, @Ctx() ctx: Context): Promise<Organization> {
    return (await ctx.loaders.organization.load(workspace.organization.id))!;
  }

  @FieldResolver(() => [ProjectType])
  projects(@Root() workspace: Workspace, @Ctx() ctx: Context): Promise<Project[]> {
    return ctx.loaders.projectsOfWorkspace.load(workspace.id);
  }
}
