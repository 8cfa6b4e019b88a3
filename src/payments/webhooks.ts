import type Stripe from 'stripe';
import { PurchaseStatus } from '../../entities';
import { forgetCard, saveCard } from './payment-methods.service';
import { issueInvoice, type PaymentServices, recordRefund, settleIntent } from './purchase.service';
import type { Deps } from '../deps';
import { recordInvoicePayment, recordInvoiceVoided } from '../enterprise/invoice-payment';

/** The events that move a purchase; the others are acknowledged and left alone. */
const INTENT_EVENTS = new Set(['payment_intent.succeeded', 'payment_intent.payment_failed', 'payment_intent.requires_action', 'payment_intent.canceled']);

/**
 * POST /webhooks/stripe: the raw body is verified against its Stripe-Signature with the
 * endpoint's secret (400 and nothing done when it does not match). Each event is handled once
 * by its id; handling is idempotent as well (credits are granted by the purchase's one move to
 * SUCCEEDED), so a crash between the two only means a redelivery is handled again, harmlessly.
 */
export async function handleStripeWebhook(
  deps: PaymentServices & Pick<Deps, 'now'>,
  webhookSecret: string | undefined,
  rawBody: string,
  signature: string | undefined,
): Promise<{ status: number; body: unknown }> {
  const { stripe } = deps;
  if (!stripe || !webhookSecret) return { status: 404, body: { error: 'payments are not configured' } };
  let event: Stripe.Event;
  try {
    event = stripe.webhooks.constructEvent(rawBody, signature ?? '', webhookSecret);
  } catch (error) {
    return { status: 400, body: { error: `signature check failed: ${(error as Error).message}` } };
  }
  // The event is a unit of work of its own: `deps.em` is the server's root EntityManager.
  const em = deps.em.fork();
  const services = { ...deps, em };
  const [seen] = await em.execute('select 1 from stripe_events where id = ?', [event.id]);
  if (seen) return { status: 200, body: { received: true, duplicate: true } };
  if (INTENT_EVENTS.has(event.type)) {
    const intent = event.data.object as Stripe.PaymentIntent;
    // An intent without one of our purchases is not tollgate's (the account may sell other things).
    const settled = await settleIntent(services, intent);
    if (settled?.purchase.status === PurchaseStatus.SUCCEEDED) await issueInvoice(services, settled.purchase.id);
  } else if (event.type === 'charge.refunded') {
    await recordRefund(services, event.data.object as Stripe.Charge);
  } else if (event.type === 'setup_intent.succeeded') {
    await saveCard(services, event.data.object as Stripe.SetupIntent);
  } else if (event.type === 'payment_method.detached') {
    await forgetCard(services, (event.data.object as Stripe.PaymentMethod).id);
  } else if (event.type === 'invoice.paid') {
    await recordInvoicePayment(services, event.data.object as Stripe.Invoice, deps.now());
  } else if (event.type === 'invoice.voided') {
    await recordInvoiceVoided(services, event.data.object as Stripe.Invoice);
  }
  await em.execute('insert into stripe_events (id, type) values (?, ?) on conflict do nothing', [event.id, event.type]);
  return { status: 200, body: { received: true } };
}
