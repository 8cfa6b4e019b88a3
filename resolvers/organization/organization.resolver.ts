import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Organization } from '../../entities';
import { readScope, requireAdmin } from '../../src/auth/access';
import type { Context } from '../../src/graphql/context';
import { parseId } from '../../src/ids';
import { createOrganization } from '../../src/organizations/organization.service';
import { ConnectionArgs, toConnection, withUserErrors } from '../common.types';
import { MemberConnection, OrganizationCreateInput, OrganizationCreatePayload, OrganizationType } from './organization.types';
import { WorkspaceConnection } from '../workspace/workspace.types';

@Resolver(() => OrganizationType)
export class OrganizationResolver {
  @Query(() => OrganizationType, {
    nullable: true,
    description: "A member's own organization (id optional); the platform admin names one by id",
  })
  async organization(@Ctx() ctx: Context, @Arg('id', () => ID, { nullable: true }) id?: string): Promise<Organization | null> {
    const scope = readScope(ctx.principal);
    const wanted = id == null ? scope : parseId('organization', id, 'id');
    if (wanted === null || (scope !== null && wanted !== scope)) return null;
    return ctx.loaders.organization.load(wanted);
  }

  @Mutation(() => OrganizationCreatePayload, { description: 'Platform admin: a new organization with its owner' })
  async organizationCreate(@Ctx() ctx: Context, @Arg('input') input: OrganizationCreateInput) {
    const admin = requireAdmin(ctx.principal);
    return withUserErrors(ctx, async () => {
      const { organization, owner, secret } = await createOrganization(ctx, admin, input);
      return { organization, owner, ownerToken: secret };
    });
  }

  @FieldResolver(() => WorkspaceConnection, { description: 'Its workspaces, oldest first' })
  async workspaces(@Root() organization: Organization, @Ctx() ctx: Context, @Args() page: ConnectionArgs) {
    return toConnection(await ctx.loaders.workspacePage.load({ parentId: organization.id, page: { ...page } }));
  }

  @FieldResolver(() => MemberConnection, { description: 'Current members (removed ones are left out), oldest first' })
  async members(@Root() organization: Organization, @Ctx() ctx: Context, @Args() page: ConnectionArgs) {
    return toConnection(await ctx.loaders.memberPage.load({ parentId: organization.id, page: { ...page } }));
  }
}
