import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Member, Organization, Workspace } from '../entities';
import { readScope, requireAdmin } from '../src/auth/access';
import type { Context } from '../src/graphql/context';
import { parseId } from '../src/ids';
import { createOrganization } from '../src/organizations/organization.service';
import { withUserErrors } from './common.types';
import { MemberType, OrganizationCreateInput, OrganizationCreatePayload, OrganizationType } from './organization.types';
import { WorkspaceType } from './workspace.types';

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

  @FieldResolver(() => [WorkspaceType])
  workspaces(@Root() organization: Organization, @Ctx() ctx: Context): Promise<Workspace[]> {
    return ctx.loaders.workspacesOfOrganization.load(organization.id);
  }

  @FieldResolver(() => [MemberType], { description: 'Current members (removed ones are left out)' })
  members(@Root() organization: Organization, @Ctx() ctx: Context): Promise<Member[]> {
    return ctx.loaders.membersOfOrganization.load(organization.id);
  }
}
