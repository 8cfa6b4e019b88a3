import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Resolver, Root, Subscription } from 'type-graphql';
import { Alert, type LowBalanceThreshold, type Member, MemberRole, type Organization, type Wallet } from '../../entities';
import { removeAlertWebhook, setAlertWebhook } from '../../src/alerts/alert-webhooks';
import { acknowledgeAlert } from '../../src/alerts/alert.service';
import { removeLowBalanceThreshold, setLowBalanceThreshold } from '../../src/alerts/low-balance';
import { inScope, MANAGERS, readScope, requireMember } from '../../src/auth/access';
import type { Context } from '../../src/graphql/context';
import { badUserInput } from '../../src/graphql/errors';
import { parseId, parseIds } from '../../src/ids';
import { TOPICS } from '../../src/realtime/pubsub';
import { flatMapEvents } from '../../src/realtime/streams';
import {
  AlertAcknowledgeInput,
  AlertAcknowledgePayload,
  AlertConnection,
  AlertType,
  AlertWebhookRemoveInput,
  AlertWebhookRemovePayload,
  AlertWebhookSetInput,
  AlertWebhookSetPayload,
  LowBalanceThresholdRemoveInput,
  LowBalanceThresholdRemovePayload,
  LowBalanceThresholdSetInput,
  LowBalanceThresholdSetPayload,
  LowBalanceThresholdType,
} from './alert.types';
import { ConnectionArgs, toConnection, withUserErrors } from '../common.types';
import { MemberType, OrganizationType } from '../organization/organization.types';
import { WalletType } from '../wallet/wallet.types';

/** The members of a list of ids that still exist, in its order. */
async function membersOf(ctx: Context, memberIds: string[]): Promise<Member[]> {
  const members = await ctx.loaders.member.loadMany(memberIds);
  return members.filter((member): member is Member => member !== null && !(member instanceof Error));
}

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

@Resolver(() => LowBalanceThresholdType)
export class LowBalanceThresholdResolver {
  @FieldResolver(() => WalletType)
  async wallet(@Root() threshold: LowBalanceThreshold, @Ctx() ctx: Context): Promise<Wallet> {
    return (await ctx.loaders.wallet.load(threshold.wallet.id))!;
  }

  @FieldResolver(() => [MemberType], { description: 'The members who receive its alerts' })
  recipients(@Root() threshold: LowBalanceThreshold, @Ctx() ctx: Context): Promise<Member[]> {
    return membersOf(ctx, threshold.recipientMemberIds);
  }

  @Mutation(() => LowBalanceThresholdSetPayload, { description: "Owners and admins: alert members when a wallet's balance falls below an amount" })
  async lowBalanceThresholdSet(@Ctx() ctx: Context, @Arg('input') input: LowBalanceThresholdSetInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    const walletId = parseId('wallet', input.walletId, 'input.walletId');
    const recipientMemberIds = parseIds('member', input.recipientMemberIds, 'input.recipientMemberIds');
    return withUserErrors(ctx, async () => ({
      threshold: await setLowBalanceThreshold(ctx, actor, { ...input, walletId, recipientMemberIds }),
    }));
  }

  @Mutation(() => LowBalanceThresholdRemovePayload, { description: 'Owners and admins: remove a low-balance threshold (its past alerts stay)' })
  async lowBalanceThresholdRemove(@Ctx() ctx: Context, @Arg('input') input: LowBalanceThresholdRemoveInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    const lowBalanceThresholdId = parseId('lowBalanceThreshold', input.lowBalanceThresholdId, 'input.lowBalanceThresholdId');
    return withUserErrors(ctx, async () => ({ removedId: await removeLowBalanceThreshold(ctx, actor, { lowBalanceThresholdId }) }));
  }
}

@Resolver(() => WalletType)
export class WalletLowBalanceThresholdsResolver {
  @FieldResolver(() => [LowBalanceThresholdType], { description: 'Its low-balance thresholds, highest first' })
  lowBalanceThresholds(@Root() wallet: Wallet, @Ctx() ctx: Context): Promise<LowBalanceThreshold[]> {
    return ctx.loaders.lowBalanceThresholdsOfWallet.load(wallet.id);
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
    return toConnection(await ctx.loaders.alertPage.load({ parentId: organization.id, page: { ...page }, filter: acknowledged ?? null }));
  }

  @FieldResolver(() => String, { nullable: true, description: 'Where alerts are also sent (alertWebhookSet)' })
  alertWebhookUrl(@Root() organization: Organization): string | null {
    return organization.alertWebhookUrl ?? null;
  }

  @Mutation(() => AlertWebhookSetPayload, { description: "Owners and admins: send the organization's alerts to a URL too, signed; returns a new signing secret" })
  async alertWebhookSet(@Ctx() ctx: Context, @Arg('input') input: AlertWebhookSetInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    return withUserErrors(ctx, () => setAlertWebhook(ctx, actor, input));
  }

  @Mutation(() => AlertWebhookRemovePayload, { description: 'Owners and admins: stop sending alerts to the webhook' })
  async alertWebhookRemove(@Ctx() ctx: Context, @Arg('input') input: AlertWebhookRemoveInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    return withUserErrors(ctx, async () => ({ organization: await removeAlertWebhook(ctx, actor, input) }));
  }
}
