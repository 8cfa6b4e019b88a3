import type { EntityName } from '@mikro-orm/core';
import { Arg, Ctx, Field, ID, ObjectType, Query, registerEnumType, Resolver } from 'type-graphql';
import { AccessToken, Alert, ApiKey, Hold, Identity, LowBalanceThreshold, Member, Organization, Project, Purchase, TaxId, Transaction, Wallet, Workspace } from '../entities';
import { inScope, readScope } from '../src/auth/access';
import type { Context } from '../src/graphql/context';
import { badUserInput, unauthenticated } from '../src/graphql/errors';
import { type IdKind, idKind } from '../src/ids';
import { NodeInterface } from './common.types';
import { MemberType, OrganizationType } from './organization.types';

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

const ENTITY_OF: Record<IdKind, EntityName<{ id: string }>> = {
  organization: Organization,
  member: Member,
  accessToken: AccessToken,
  workspace: Workspace,
  wallet: Wallet,
  project: Project,
  transaction: Transaction,
  apiKey: ApiKey,
  identity: Identity,
  hold: Hold,
  taxId: TaxId,
  purchase: Purchase,
  alert: Alert,
  lowBalanceThreshold: LowBalanceThreshold,
};

@Resolver()
export class ViewerResolver {
  @Query(() => Viewer)
  async viewer(@Ctx() ctx: Context): Promise<Viewer> {
    const { principal } = ctx;
    if (principal.kind === 'ANONYMOUS') throw unauthenticated();
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
    if (!kind) throw badUserInput(`id: "${id.slice(0, 80)}" is not a tollgate id`);
    const found = await ctx.em.findOne(ENTITY_OF[kind], { id });
    if (!found) return null;
    const organizationId = found instanceof Organization ? found.id : (found as unknown as { organization: { id: string } }).organization.id;
    return inScope(scope, organizationId) ? found : null;
  }
}
