import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import type { TestApp } from './app';
import type { StripeStandIn } from './stripe-server';

/** The signing secret of the test apps' webhook endpoint. */
export const WEBHOOK_SECRET = `whsec_${randomBytes(16).toString('hex')}`;

/** Signs webhooks the way Stripe does, with the SDK's own helper. */
const signer = new Stripe('sk_test_signer');

/** Delivers a signed Stripe event about `object` to the app; the HTTP status. */
export async function sendWebhook(app: TestApp, type: string, object: Record<string, unknown>, eventId = `evt_${randomBytes(8).toString('hex')}`, secret = WEBHOOK_SECRET) {
  const payload = JSON.stringify({ id: eventId, object: 'event', type, data: { object } });
  const response = await fetch(`${app.server.url}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signer.webhooks.generateTestHeaderString({ payload, secret }) },
    body: payload,
  });
  return response.status;
}

const SETUP = `mutation { paymentMethodSetupStart { clientSecret userErrors { code } } }`;

/** The dashboard's card form: start, confirm with Stripe.js (here the stand-in), Stripe's webhook; the card's id. */
export async function saveCard(app: TestApp, stripe: StripeStandIn, token: string, testCard: string): Promise<string> {
  const { paymentMethodSetupStart } = await app.data(SETUP, {}, token);
  expect(paymentMethodSetupStart.userErrors).toEqual([]);
  const setupIntentId = paymentMethodSetupStart.clientSecret.split('_secret_')[0];
  const confirmed = stripe.confirmSetup(setupIntentId, testCard);
  expect(await sendWebhook(app, 'setup_intent.succeeded', confirmed)).toBe(200);
  return confirmed.payment_method;
}
