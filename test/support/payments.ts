import { createStripe } from '../../src/payments/stripe';
import { randomBytes } from 'node:crypto';
import type { PaymentsServer } from '../../src/dev/payments-server';
import { signedEvent } from '../../src/dev/payments-webhooks';
import type { GraphQLClient, TestApp } from './app';
import { expectNoUserErrors, organizationWithWorkspace } from './fixtures';

/** The signing secret of the test apps' webhook endpoint. */
export const WEBHOOK_SECRET = `whsec_${randomBytes(16).toString('hex')}`;

/** Delivers a signed Stripe event about `object` to the app, as the payments server signs it; the HTTP status. */
export async function sendWebhook(app: TestApp, type: string, object: Record<string, unknown>, eventId?: string, secret = WEBHOOK_SECRET) {
  const { payload, signature } = signedEvent(type, object, secret, eventId);
  const response = await fetch(`${app.server.url}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    body: payload,
  });
  return response.status;
}

const BILLING_PROFILE = `mutation ($input: BillingProfileUpdateInput!) { billingProfileUpdate(input: $input) { userErrors { code message } } }`;

/** Gives the organization of `token` a billing name and address, which purchases and auto top-up need. */
export async function withBillingProfile(app: GraphQLClient, token: string): Promise<void> {
  const input = { name: 'ACME Inc.', address: { line1: '1 Main Street', city: 'Springfield', postalCode: '12345', country: 'US' } };
  expectNoUserErrors((await app.data(BILLING_PROFILE, { input }, token)).billingProfileUpdate);
}

/** A new organization with one workspace and a billing profile: ready to buy credits. */
export async function buyingOrganization(app: GraphQLClient) {
  const org = await organizationWithWorkspace(app);
  await withBillingProfile(app, org.ownerToken);
  return org;
}

const SETUP = `mutation { paymentMethodSetupStart(input: {}) { clientSecret userErrors { code } } }`;

/**
 * The dashboard's card form: start, confirm with Stripe.js (here the payments server), Stripe's
 * webhook; the card's id. The billing profile is filled in first, as a dashboard asks for it
 * before the card, so that the card can be charged.
 */
export async function saveCard(app: TestApp, stripe: PaymentsServer, token: string, testCard: string): Promise<string> {
  await withBillingProfile(app, token);
  const { paymentMethodSetupStart } = await app.data(SETUP, {}, token);
  expect(paymentMethodSetupStart.userErrors).toEqual([]);
  const confirmed = (await stripe.confirmSetup(paymentMethodSetupStart.clientSecret, testCard)).object;
  expect(await sendWebhook(app, 'setup_intent.succeeded', confirmed)).toBe(200);
  return confirmed.payment_method;
}

/** What a test app needs to take payments through `stripe`, the suite's payments server. */
export function paymentsOptions(stripe: PaymentsServer) {
  return { stripe: createStripe({ STRIPE_SECRET_KEY: stripe.secretKey, STRIPE_API_BASE: stripe.url }), stripeWebhookSecret: WEBHOOK_SECRET };
}
