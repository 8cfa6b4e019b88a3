import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root, Subscription } from 'type-graphql';
import { Alert, type LowBalanceThreshold, type Member, MemberRole, Wallet } from '../../entities';
import { acknowledgeAlert } from '../../src/alerts/alert.service';
import { inScope, readScope, requireMember } from '../../src/auth/access';
import type { Context } from '../../src/graphql/context';
import { badUserInput } from '../../src/graphql/errors';
import { parseId } from '../../src/ids';
import { TOPICS } from '../../src/realtime/pubsub';
import { flatMapEvents } from '../../src/realtime/streams';
import { withUserErrors } from '../common.types';
import { LowBalanceThresholdType } from '../low-balance-threshold/low-balance-threshold.types';
import { membersOf } from '../member/member.resolver';
import { MemberType } from '../member/member.types';
import { WalletType } from '../wallet/wallet.types';
import { AlertAcknowledgeInput, AlertAcknowledgePayload, AlertType } from './alert.types';

@Resolver(() => AlertType)
export class AlertResolver {
  @FieldResolver(() => WalletType, { nullable: true, description: 'The wallet it concerns' })
  async wallet(@Root() alert: Alert, @Ctx() ctx: Context): Promise<Wallet | null> {
    return alert.wallet ? ctx.loaders.wallet.load(alert.wallet.id) : null;
  }

  @FieldResolver(() => LowBalanceThresholdType, { nullable: true, description: 'Low-balance alerts: the threshold, unless removed since' })
  lowBalanceThreshold(@Root() alert: Alert, @Ctx() ctx: Context): Promise<LowBalanceThreshold | null> {
    return alert.lowBalanceThreshold ? ctx.loaders.lowBalanceThreshold.load(alert.lowBalanceThreshold.id) : Promise.resolve(null);
  }

  @FieldResolver(() => [MemberType], { description: 'The members it was sent to (none named: whoever looks after the organization)' })
  recipients(@Root() alert: Alert, @Ctx() ctx: Context): Promise<Member[]> {
    return membersOf(ctx, alert.recipientMemberIds);
  }

  @Mutation(() => AlertAcknowledgePayload, { description: 'Members (not viewers): mark an alert as seen' })
  async alertAcknowledge(@Ctx() ctx: Context, @Arg('input') input: AlertAcknowledgeInput) {
    const actor = requireMember(ctx.principal, [MemberRole.OWNER, MemberRole.ADMIN, MemberRole.MEMBER]);
    const alertId = parseId('alert', input.alertId, 'input.alertId');
    return withUserErrors(ctx, async () => ({ alert: await acknowledgeAlert(ctx, actor, { alertId }) }));
  }

  @Subscription(() => AlertType, {
    description: 'Low-balance alerts of your organization as they fire: those addressed to you (a platform admin sees all)',
    subscribe: ({ args, context }) => {
      const ctx = context as Context;
      const organizationId = parseId('organization', args.organizationId as string, 'organizationId');
      if (!inScope(readScope(ctx.principal), organizationId)) throw badUserInput('organizationId: no such organization');
      const memberId = ctx.principal.kind === 'MEMBER' ? ctx.principal.memberId : null;
      return flatMapEvents(ctx.bus.subscribe(TOPICS.lowBalanceAlert, organizationId), async (event) => {
        if (memberId !== null && !event.recipientMemberIds.includes(memberId)) return [];
        // One context serves the whole subscription: each alert is read, with its fields, afresh.
        ctx.forgetReads();
        const alert = await ctx.em.findOne(Alert, event.alertId);
        return alert ? [alert] : [];
      });
    },
  })
  lowBalanceAlert(@Root() alert: Alert, @Arg('organizationId', () => ID) _organizationId: string): Alert {
    return alert;
  }
}

