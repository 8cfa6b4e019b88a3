import type { EntityManager } from '@mikro-orm/postgresql';
import type Stripe from 'stripe';
import { PaymentMethod } from '../../entities';
import { inTransaction } from '../db/transaction';
import { DomainError, UserErrorCode } from '../errors';
import { disableAutoTopUps } from './auto-top-up.service';
import { stripeCustomer } from './billing.service';
import { requireStripe, unlessMissing } from './stripe';

export interface CardServices {
  em: EntityManager;
  stripe: Stripe | null;
}

/**
 * A SetupIntent for the dashboard's card form (Stripe.js confirms it with the card); Stripe then
 * reports the saved card with setup_intent.succeeded.
 */
export async function startCardSetup(services: CardServices, organizationId: string): Promise<string> {
  const stripe = requireStripe(services.stripe);
  const customer = await stripeCustomer(services.em, stripe, organizationId);
  const intent = await stripe.setupIntents.create({ customer, allowed_payment_method_types: ['card'], usage: 'off_session', metadata: { organization_id: organizationId } });
  return intent.client_secret!;
}

/** setup_intent.succeeded: keeps the card (once); the organization's first card becomes its default. */
export async function saveCard(services: CardServices, setupIntent: Stripe.SetupIntent): Promise<void> {
  const stripe = requireStripe(services.stripe);
  const organizationId = setupIntent.metadata?.organization_id;
  const paymentMethodId = typeof setupIntent.payment_method === 'string' ? setupIntent.payment_method : setupIntent.payment_method?.id;
  if (!organizationId || !paymentMethodId) return;
  const { card } = await stripe.paymentMethods.retrieve(paymentMethodId);
  if (!card) return;
  await services.em.fork().execute(
    `insert into payment_methods (id, organization_id, brand, last4, exp_month, exp_year) values (?, ?, ?, ?, ?, ?)
     on conflict (id) do nothing`,
    [paymentMethodId, organizationId, card.brand, card.last4, card.exp_month, card.exp_year],
  );
  const [current] = await services.em.fork().execute('select 1 from payment_methods where organization_id = ? and is_default', [organizationId]);
  if (!current) await makeDefault(services, stripe, organizationId, paymentMethodId);
}

export async function setDefaultCard(services: CardServices, organizationId: string, paymentMethodId: string): Promise<PaymentMethod> {
  const stripe = requireStripe(services.stripe);
  await ownCard(services.em, organizationId, paymentMethodId);
  await makeDefault(services, stripe, organizationId, paymentMethodId);
  return ownCard(services.em, organizationId, paymentMethodId);
}

/** Detaches the card in Stripe and forgets it here; the newest remaining card becomes the default. */
export async function removeCard(services: CardServices, organizationId: string, paymentMethodId: string): Promise<string> {
  const stripe = requireStripe(services.stripe);
  await ownCard(services.em, organizationId, paymentMethodId);
  await stripe.paymentMethods.detach(paymentMethodId).catch(unlessMissing);
  await forgetCard(services, paymentMethodId);
  return paymentMethodId;
}

/** payment_method.detached, or a removal here: the card goes, and the default moves on if it was it. */
export async function forgetCard(services: CardServices, paymentMethodId: string): Promise<void> {
  const [gone] = await services.em
    .fork()
    .execute<Array<{ organization_id: string; is_default: boolean }>>('delete from payment_methods where id = ? returning organization_id, is_default', [paymentMethodId]);
  if (!gone?.is_default || !services.stripe) return;
  const [next] = await services.em
    .fork()
    .execute<Array<{ id: string }>>('select id from payment_methods where organization_id = ? order by created_at desc, id desc limit 1', [gone.organization_id]);
  if (next) await makeDefault(services, services.stripe, gone.organization_id, next.id);
  else await disableAutoTopUps(services.em, gone.organization_id, 'The last saved card was removed: add a card and turn auto top-up on again');
}

/** The card charged when a purchase names none, and by auto top-up; null when no card is saved. */
export async function defaultCardOf(em: EntityManager, organizationId: string): Promise<string | null> {
  const card = await em.fork().findOne(PaymentMethod, { organization: organizationId, isDefault: true });
  return card?.id ?? null;
}

async function ownCard(em: EntityManager, organizationId: string, paymentMethodId: string): Promise<PaymentMethod> {
  const card = await em.fork().findOne(PaymentMethod, { id: paymentMethodId, organization: organizationId });
  if (!card) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such saved card', ['input', 'paymentMethodId']);
  return card;
}

/** Stripe's customer first (it charges the default off-session), then here, where one default per organization is enforced. */
async function makeDefault(services: CardServices, stripe: Stripe, organizationId: string, paymentMethodId: string): Promise<void> {
  const customer = await stripeCustomer(services.em, stripe, organizationId);
  await stripe.customers.update(customer, { invoice_settings: { default_payment_method: paymentMethodId } });
  await inTransaction(services.em, async (tx) => {
    await tx.execute('update payment_methods set is_default = false where organization_id = ? and is_default and id <> ?', [organizationId, paymentMethodId]);
    await tx.execute('update payment_methods set is_default = true where organization_id = ? and id = ?', [organizationId, paymentMethodId]);
  });
}
