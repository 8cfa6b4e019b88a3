import { Arg, Ctx, Field, ID, ObjectType, Query, registerEnumType, Resolver } from 'type-graphql';
import { type Member, Organization } from '../../entities';
import { inScope, readScope } from '../../src/auth/access';
import { MalformedInputError, UnauthenticatedError } from '../../src/errors';
import type { Context } from '../../src/graphql/context';
import { ID_KINDS, idKind } from '../../src/ids';
import { NodeInterface } from '../common.types';
import { MemberType } from '../member/member.types';
import { OrganizationType } from '../organization/organization.types';

enum ViewerKind {
  PLATFORM_ADMIN = 'PLATFORM_ADMIN',
  GATEWAY = 'GATEWAY',
  MEMBER = 'MEMBER',
}
registerEnumType(ViewerKind, { name: 'ViewerKind' });

@ObjectType({ description: 'Who the access token belongs to' })
class Viewer {
  @Field(() => ViewerKind)
  kind!: ViewerKind;

  @Field(() => MemberType, { nullable: true })
  member!: Member | null;

  @Field(() => OrganizationType, { nullable: true })
  organization!: Organization | null;
}

@Resolver()
export class ViewerResolver {
  @Query(() => Viewer)
  async viewer(@Ctx() ctx: Context): Promise<Viewer> {
    const { principal } = ctx;
    if (principal.kind === 'ANONYMOUS') throw new UnauthenticatedError();
    if (principal.kind !== 'MEMBER') return { kind: ViewerKind[principal.kind], member: null, organization: null };
    const [member, organization] = await Promise.all([
      ctx.loaders.member.load(principal.memberId),
      ctx.loaders.organization.load(principal.organizationId),
    ]);
    return { kind: ViewerKind.MEMBER, member, organization };
  }

  @Query(() => NodeInterface, { nullable: true, description: 'Any object by id; null when it is not yours or does not exist' })
  async node(@Ctx() ctx: Context, @Arg('id', () => ID) id: string): Promise<{ id: string } | null> {
    const scope = readScope(ctx.principal);
    const kind = idKind(id);
    if (!kind) throw new MalformedInputError(`id: "${id.slice(0, 80)}" is not a tollgate id`);
    const found = await ctx.em.findOne(ID_KINDS[kind].entity(), { id });
    if (!found) return null;
    const organizationId = found instanceof Organization ? found.id : (found as unknown as { organization: { id: string } }).organization.id;
    return inScope(scope, organizationId) ? found : null;
  }
}
