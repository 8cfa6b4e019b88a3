import { Arg, Args, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import { type Alert, MemberRole, type Organization, type Wallet } from '../entities';
import { acknowledgeAlert, listAlerts } from '../src/alerts/alert.service';
import { requireMember } from '../src/auth/access';
import type { Context } from '../src/graphql/context';
import { parseId } from '../src/graphql/ids';
import { AlertAcknowledgeInput, AlertAcknowledgePayload, AlertConnection, AlertType } from './alert.types';
import { ConnectionArgs, toConnection, withUserErrors } from './common.types';
import { OrganizationType } from './organization.types';
import { WalletType } from './wallet.types';

@Resolver(() => AlertType)
export class AlertResolver {
  @FieldResolver(() => WalletType, { nullable: true, description: 'The wallet it concerns' })
  async wallet(@Root() alert: Alert, @Ctx() ctx: Context): Promise<Wallet | null> {
    return alert.wallet ? ctx.loaders.wallet.load(alert.wallet.id) : null;
  }

  @Mutation(() => AlertAcknowledgePayload, { description: 'Members (not viewers): mark an alert as seen' })
  async alertAcknowledge(@Ctx() ctx: Context, @Arg('input') input: AlertAcknowledgeInput) {
    const actor = requireMember(ctx.principal, [MemberRole.OWNER, MemberRole.ADMIN, MemberRole.MEMBER]);
    const alertId = parseId('alert', input.alertId, 'input.alertId');
    return withUserErrors(ctx, async () => ({ alert: await acknowledgeAlert(ctx.em, actor.organizationId, alertId, actor.memberId) }));
  }
}

@Resolver(() => OrganizationType)
export class OrganizationAlertsResolver {
  @FieldResolver(() => AlertConnection, { description: 'Alerts, newest first' })
  async alerts(
    @Root() organization: Organization,
    @Ctx() ctx: Context,
    @Args() page: ConnectionArgs,
    @Arg('acknowledged', () => Boolean, { nullable: true, description: 'Only the acknowledged (true) or the open (false) ones' })
    acknowledged?: boolean | null,
  ) {
    return toConnection(await listAlerts(ctx.em, organization.id, page, acknowledged));
  }
}
