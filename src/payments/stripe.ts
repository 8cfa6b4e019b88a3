import Stripe from 'stripe';
import type { Config } from '../config';
import { DomainError, UserErrorCode } from '../errors';

/**
 * The deployment's one Stripe client, or null without a secret key (billing profiles are then
 * kept here only). STRIPE_API_BASE points the SDK at a Stripe-compatible server (the tests run
 * one).
 */
export function createStripe(config: Pick<Config, 'STRIPE_SECRET_KEY' | 'STRIPE_API_BASE'>): Stripe | null {
  if (!config.STRIPE_SECRET_KEY) return null;
  const base = config.STRIPE_API_BASE ? new URL(config.STRIPE_API_BASE) : null;
  const protocol = base?.protocol === 'http:' ? 'http' : 'https';
  return new Stripe(config.STRIPE_SECRET_KEY, {
    maxNetworkRetries: 2,
    ...(base && { host: base.hostname, port: Number(base.port || (protocol === 'http' ? 80 : 443)), protocol }),
  });
}

export function requireStripe(stripe: Stripe | null): Stripe {
  if (!stripe) throw new DomainError(UserErrorCode.PAYMENTS_NOT_CONFIGURED, 'Payments are not configured on this deployment');
  return stripe;
}

/** Stripe refusing the request itself (a declined or unusable card, a bad tax ID), as opposed to a fault. */
export function isPaymentRefusal(error: unknown): error is Stripe.errors.StripeCardError | Stripe.errors.StripeInvalidRequestError {
  return error instanceof Stripe.errors.StripeCardError || error instanceof Stripe.errors.StripeInvalidRequestError;
}

/** Stripe out of reach or failing on its side (5xx): it refused nothing, so the same request may go through later. */
export function isStripeOutage(error: unknown): boolean {
  return error instanceof Stripe.errors.StripeConnectionError || (error instanceof Stripe.errors.StripeError && (error.statusCode ?? 0) >= 500);
}

/** A call to Stripe whose refusal (a bad tax ID, a declined card) is the user's to fix. */
export async function stripeCall<T>(call: () => Promise<T>, field: string[] | null = null): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isPaymentRefusal(error)) {
      throw new DomainError(UserErrorCode.PAYMENT_PROVIDER_ERROR, `Stripe refused: ${error.message}`, field);
    }
    throw error;
  }
}

/** For removals: what Stripe no longer has is already removed. */
export function unlessMissing(error: { code?: string }): void {
  if (error.code !== 'resource_missing') throw error;
}
