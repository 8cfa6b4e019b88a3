import type { EntityManager } from '@mikro-orm/postgresql';
import type Stripe from 'stripe';
import { PaymentMethod } from '../../entities';
import { type MemberActor, ownOrganization } from '../actor';
import { inTransaction } from '../db/transaction';
import type { Deps } from '../deps';
import { DomainError, UserErrorCode } from '../errors';
import { disableAutoTopUps } from './auto-top-up.service';
import { stripeCustomer } from './billing.service';
import { isPaymentRefusal, requireStripe, unlessMissing } from './stripe';

export type CardServices = Pick<Deps, 'em' | 'stripe'>;

/*
 * Card changes of one organization (a card saved or forgotten, the default set) run one at a
 * time: each takes the organization's row in a short transaction that leaves exactly one default
 * while cards remain (the database checks that at commit), and then brings Stripe's customer
 * default to what committed (syncStripeDefault). Stripe is not called under the lock: a slow or
 * unreachable Stripe would hold the row and a pooled connection for the SDK's timeouts and
 * retries, and on the embedded database, which runs one transaction at a time, every other query.
 * A row lock rather than a session advisory lock: the embedded database's connections share one
 * session, in which such a lock excludes nothing.
 */

/**
 * A SetupIntent for the dashboard's card form (Stripe.js confirms it with the card); Stripe then
 * reports the saved card with setup_intent.succeeded.
 */
export async function startCardSetup(services: CardServices, actor: MemberActor, input: { organizationId?: string | null }): Promise<string> {
  const organizationId = ownOrganization(actor, input.organizationId);
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
  const { card, customer } = await stripe.paymentMethods.retrieve(paymentMethodId);
  // Events come in any order: a card already detached (its payment_method.detached handled first) is not kept.
  if (!card || !customer) return;
  const becameDefault = await inTransaction(services.em, async (tx) => {
    await lockCards(tx, organizationId);
    await tx.execute(
      `insert into payment_methods (id, organization_id, brand, last4, exp_month, exp_year) values (?, ?, ?, ?, ?, ?)
       on conflict (id) do nothing`,
      [paymentMethodId, organizationId, card.brand, card.last4, card.exp_month, card.exp_year],
    );
    const promoted = await tx.execute(
      `update payment_methods set is_default = true
       where id = ? and not exists (select from payment_methods where organization_id = ? and is_default) returning id`,
      [paymentMethodId, organizationId],
    );
    return promoted.length > 0;
  });
  if (becameDefault) await syncStripeDefault(services.em, stripe, organizationId);
}

/**
 * The card as this change committed it (a later change may have moved the default since). Stripe
 * is brought to the default even when it did not move here, so setting it again repairs a Stripe
 * that missed an earlier change (it was unreachable).
 */
export async function setDefaultCard(services: CardServices, { organizationId }: MemberActor, { paymentMethodId }: { paymentMethodId: string }): Promise<PaymentMethod> {
  const stripe = requireStripe(services.stripe);
  const card = await inTransaction(services.em, async (tx) => {
    await lockCards(tx, organizationId);
    const card = await ownCard(tx, organizationId, paymentMethodId);
    if (!card.isDefault) {
      await tx.execute('update payment_methods set is_default = false where organization_id = ? and is_default', [organizationId]);
      card.isDefault = true;
    }
    return card;
  });
  await syncStripeDefault(services.em, stripe, organizationId);
  return card;
}

/**
 * Detaches the card in Stripe, then forgets it here; the newest remaining card becomes the
 * default. Stripe first: a failed detach changes nothing, and a card detached but not yet
 * forgotten (the server stopped in between) is forgotten by its payment_method.detached event.
 */
export async function removeCard(services: CardServices, { organizationId }: MemberActor, { paymentMethodId }: { paymentMethodId: string }): Promise<string> {
  const stripe = requireStripe(services.stripe);
  await ownCard(services.em, organizationId, paymentMethodId);
  try {
    await stripe.paymentMethods.detach(paymentMethodId);
  } catch (error) {
    // Detached already (by a removal at the same moment, or in Stripe itself): what was asked is done.
    if (!isPaymentRefusal(error) || !(await detachedInStripe(stripe, paymentMethodId))) throw error;
  }
  await forgetCard(services, paymentMethodId);
  return paymentMethodId;
}

/** payment_method.detached, or a removal here: the card goes, and the default moves on if it was it. */
export async function forgetCard(services: CardServices, paymentMethodId: string): Promise<void> {
  const movedIn = await inTransaction(services.em, async (tx) => {
    const [card] = await tx.execute<Array<{ organization_id: string }>>('select organization_id from payment_methods where id = ?', [paymentMethodId]);
    if (!card) return null;
    const organizationId = card.organization_id;
    await lockCards(tx, organizationId);
    const [gone] = await tx.execute<Array<{ is_default: boolean }>>('delete from payment_methods where id = ? returning is_default', [paymentMethodId]);
    if (!gone?.is_default) return null;
    const promoted = await tx.execute(
      `update payment_methods set is_default = true
       where id = (select id from payment_methods where organization_id = ? order by created_at desc, id desc limit 1) returning id`,
      [organizationId],
    );
    if (promoted.length === 0) {
      await disableAutoTopUps(tx, organizationId, 'The last saved card was removed: add a card and turn auto top-up on again');
    }
    return organizationId;
  });
  if (movedIn && services.stripe) await syncStripeDefault(services.em, services.stripe, movedIn);
}

/** The card charged when a purchase names none, and by auto top-up; null when no card is saved. */
export async function defaultCardOf(em: EntityManager, organizationId: string): Promise<string | null> {
  const [card] = await em.execute<Array<{ id: string }>>('select id from payment_methods where organization_id = ? and is_default', [organizationId]);
  return card?.id ?? null;
}

/** Serializes the organization's card changes. No key update: inserts that reference the organization (a card's too) are not held up. */
async function lockCards(tx: EntityManager, organizationId: string): Promise<void> {
  await tx.execute('select id from organizations where id = ? for no key update', [organizationId]);
}

async function ownCard(em: EntityManager, organizationId: string, paymentMethodId: string): Promise<PaymentMethod> {
  const card = await em.findOne(PaymentMethod, { id: paymentMethodId, organization: organizationId });
  if (!card) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such saved card', ['input', 'paymentMethodId']);
  return card;
}

/**
 * Brings Stripe's customer default (what Stripe's own invoices charge) to the default committed
 * here, after a change that moved it. Outside the lock, the updates of concurrent changes may
 * reach Stripe in any order, so each pass reads the default again once Stripe has answered, and
 * pushes again when it moved: the last update to reach Stripe was followed by a read that found it
 * current, so Stripe ends on the last committed default.
 */
async function syncStripeDefault(em: EntityManager, stripe: Stripe, organizationId: string): Promise<void> {
  const customer = await stripeCustomer(em, stripe, organizationId);
  let pushed: string | null | undefined;
  for (let current = await defaultCardOf(em, organizationId); current !== pushed; current = await defaultCardOf(em, organizationId)) {
    try {
      // An empty string clears Stripe's default: the last card is gone.
      await stripe.customers.update(customer, { invoice_settings: { default_payment_method: current ?? '' } });
    } catch (error) {
      // Stripe refuses a card it has detached: that card's removal here has not committed yet, and syncs once it has.
      if (current === null || !isPaymentRefusal(error) || !(await detachedInStripe(stripe, current))) throw error;
    }
    pushed = current;
  }
}

/** Whether Stripe has the card on no customer any more (detached, or gone). */
async function detachedInStripe(stripe: Stripe, paymentMethodId: string): Promise<boolean> {
  const card = await stripe.paymentMethods.retrieve(paymentMethodId).catch(unlessMissing);
  return !card || card.customer === null;
}
