import Stripe from 'stripe';
import { stripeId } from './payments-objects';
import { deliveryLine } from './payments-pages';

export interface WebhookDelivery {
  type: string;
  eventId: string;
  /** The endpoint's HTTP status; null when it could not be reached. */
  status: number | null;
  error: string | null;
}

/** Attempts of one event's delivery, one second apart and doubling: Stripe's go on for days, a developer's wait not. */
const DELIVERY_ATTEMPTS = 5;

/** The body and Stripe-Signature header of an event about `object`, signed with the endpoint's secret as Stripe signs it. */
export function signedEvent(type: string, object: Record<string, unknown>, secret: string, eventId = stripeId('evt')) {
  const payload = JSON.stringify({
    id: eventId,
    object: 'event',
    api_version: Stripe.API_VERSION,
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    type,
    data: { object },
  });
  return { payload, signature: Stripe.webhooks.generateTestHeaderString({ payload, secret }) };
}

/** Sends events to the endpoint, signed with its secret, and again later while they fail. */
export class WebhookSender {
  private readonly retries = new Set<NodeJS.Timeout>();
  private closed = false;

  /** Without a webhook, none are sent. */
  constructor(
    private readonly webhook: { url: string; secret: string } | null,
    private readonly log: (line: string) => void,
  ) {}

  /** Sends an event to the endpoint, and again later while it fails; the first attempt's outcome. */
  deliver(type: string, object: Record<string, any>): Promise<WebhookDelivery | null> {
    const { webhook, log } = this;
    if (!webhook) return Promise.resolve(null);
    const eventId = stripeId('evt');
    const snapshot = structuredClone(object);
    const attempt = async (number: number): Promise<WebhookDelivery> => {
      // Signed at each attempt: the endpoint refuses signatures older than five minutes.
      const { payload, signature } = signedEvent(type, snapshot, webhook.secret, eventId);
      const delivery: WebhookDelivery = { type, eventId, status: null, error: null };
      try {
        const response = await fetch(webhook.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'stripe-signature': signature },
          body: payload,
          signal: AbortSignal.timeout(10_000),
        });
        delivery.status = response.status;
        await response.text();
      } catch (error) {
        delivery.error = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
      }
      const delivered = delivery.status !== null && delivery.status >= 200 && delivery.status < 300;
      const retryMs = 1000 * 2 ** (number - 1);
      const more = !delivered && number < DELIVERY_ATTEMPTS && !this.closed;
      log(`${deliveryLine(delivery)} (${object.id})${more ? `; trying again in ${retryMs / 1000} s` : ''}`);
      if (more) {
        const timer = setTimeout(() => {
          this.retries.delete(timer);
          void attempt(number + 1);
        }, retryMs);
        this.retries.add(timer);
      }
      return delivery;
    };
    return attempt(1);
  }

  /** No more attempts: those waiting are dropped. */
  close(): void {
    this.closed = true;
    for (const timer of this.retries) clearTimeout(timer);
    this.retries.clear();
  }
}
