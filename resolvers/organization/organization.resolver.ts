import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { type NegotiatedPrice, Organization, type PaymentMethod, PurchaseKind } from '../../entities';
import { negotiatedPrices } from '../../src/pricing/negotiated-price.service';
import { NegotiatedPriceType } from '../negotiated-price/negotiated-price.types';
import { removeAlertWebhook, setAlertWebhook } from '../../src/alerts/alert-webhooks';
import { MANAGERS, readScope, requireAdmin, requireMember } from '../../src/auth/access';
import type { Context } from '../../src/graphql/context';
import { MoneyScalar } from '../../src/graphql/money.scalar';
import { parseId } from '../../src/ids';
import { createOrganization } from '../../src/organizations/organization.service';
import { setCreditTerms } from '../../src/enterprise/credit-terms.service';
import { AlertConnection } from '../alert/alert.types';
import { BillingProfileType } from '../billing-profile/billing-profile.types';
import { ConnectionArgs, toConnection, withUserErrors } from '../common.types';
import { MemberConnection } from '../member/member.types';
import { PaymentMethodType } from '../payment-method/payment-method.types';
import { PurchaseConnection } from '../purchase/purchase.types';
import { WorkspaceConnection } from '../workspace/workspace.types';
import {
  AlertWebhookRemoveInput,
  AlertWebhookRemovePayload,
  AlertWebhookSetInput,
  AlertWebhookSetPayload,
  OrganizationCreateInput,
  OrganizationCreatePayload,
  OrganizationType,
} from './organization.types';
import { EnterpriseInvoiceConnection } from '../enterprise-invoice/enterprise-invoice.types';
import { CreditTermsType, OrganizationCreditTermsSetInput, OrganizationCreditTermsSetPayload } from './credit-terms.types';

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

  @Mutation(() => OrganizationCreditTermsSetPayload, {
    description: 'Platform admin: puts an organization on invoice: a credit line for each of its wallets, and its monthly usage invoiced on net terms',
  })
  async organizationCreditTermsSet(@Ctx() ctx: Context, @Arg('input') input: OrganizationCreditTermsSetInput) {
    const admin = requireAdmin(ctx.principal);
    const organizationId = parseId('organization', input.organizationId, 'input.organizationId');
    return withUserErrors(ctx, async () => ({ organization: await setCreditTerms(ctx, admin, { ...input, organizationId }) }));
  }

  @FieldResolver(() => CreditTermsType, { nullable: true, description: 'Its credit line and net terms (enterprise accounts); null when it has none' })
  creditTerms(@Root() organization: Organization): CreditTermsType | null {
    return organization.creditLimit > 0n ? { creditLimit: organization.creditLimit, netTermsDays: organization.netTermsDays } : null;
  }

  @FieldResolver(() => EnterpriseInvoiceConnection, { description: 'Its monthly invoices (enterprise accounts), newest first' })
  async invoices(@Root() organization: Organization, @Ctx() ctx: Context, @Args() page: ConnectionArgs) {
    return toConnection(await ctx.loaders.enterpriseInvoicePage.load({ parentId: organization.id, page: { ...page } }));
  }

  @FieldResolver(() => MoneyScalar, { description: "The sum of its workspaces' wallet balances" })
  async balance(@Root() organization: Organization, @Ctx() ctx: Context): Promise<bigint> {
    return (await ctx.loaders.organizationBalance.load(organization.id)).balance;
  }

  @FieldResolver(() => MoneyScalar, {
    description: "The sum of its workspaces' available balances: the balances less what active gateway holds reserve, plus each wallet's credit line",
  })
  async availableBalance(@Root() organization: Organization, @Ctx() ctx: Context): Promise<bigint> {
    return (await ctx.loaders.organizationBalance.load(organization.id)).available;
  }

  @FieldResolver(() => WorkspaceConnection, { description: 'Its workspaces, oldest first' })
  async workspaces(@Root() organization: Organization, @Ctx() ctx: Context, @Args() page: ConnectionArgs) {
    return toConnection(await ctx.loaders.workspacePage.load({ parentId: organization.id, page: { ...page } }));
  }

  @FieldResolver(() => MemberConnection, { description: 'Current members (removed ones are left out), oldest first' })
  async members(@Root() organization: Organization, @Ctx() ctx: Context, @Args() page: ConnectionArgs) {
    return toConnection(await ctx.loaders.memberPage.load({ parentId: organization.id, page: { ...page } }));
  }

  @FieldResolver(() => [NegotiatedPriceType], { description: 'Prices agreed with the organization, newest first: the history, what is in force, what is to come' })
  negotiatedPrices(@Root() organization: Organization, @Ctx() ctx: Context): Promise<NegotiatedPrice[]> {
    return negotiatedPrices(ctx, organization.id);
  }

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

  @FieldResolver(() => [PaymentMethodType], { description: 'Saved cards, oldest first' })
  paymentMethods(@Root() organization: Organization, @Ctx() ctx: Context): Promise<PaymentMethod[]> {
    return ctx.loaders.paymentMethodsOfOrganization.load(organization.id);
  }

  @FieldResolver(() => PurchaseConnection, { description: 'Purchases and automatic top-ups, newest first' })
  async purchases(
    @Root() organization: Organization,
    @Ctx() ctx: Context,
    @Args() page: ConnectionArgs,
    @Arg('kinds', () => [PurchaseKind], { nullable: true, description: 'Only these kinds' }) kinds?: PurchaseKind[] | null,
  ) {
    return toConnection(await ctx.loaders.purchasePage.load({ parentId: organization.id, page: { ...page }, filter: kinds ?? null }));
  }

  @FieldResolver(() => BillingProfileType)
  async billingProfile(@Root() organization: Organization, @Ctx() ctx: Context): Promise<BillingProfileType> {
    return {
      name: organization.billingName ?? null,
      address: organization.billingAddress ?? null,
      taxIds: await ctx.loaders.taxIdsOfOrganization.load(organization.id),
    };
  }
}
