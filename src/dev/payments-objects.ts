import { randomBytes } from 'node:crypto';
import { dollars } from './payments-pages';
import type { WebhookDelivery } from './payments-webhooks';

/**
 * The objects of the local payments server (customers, cards, intents, charges, invoices) and
 * what Stripe does with them: charging a test card, refunding a charge, the card holder saving
 * a card or passing 3-D Secure. Kept in memory.
 */

export interface TestCard {
  brand: string;
  last4: string;
  behaviour: string;
}

/** Stripe's test cards (https://docs.stripe.com/testing) that this server knows. */
export const TEST_CARDS: Record<string, TestCard> = {
  pm_card_visa: { brand: 'visa', last4: '4242', behaviour: 'succeeds' },
  pm_card_mastercard: { brand: 'mastercard', last4: '4444', behaviour: 'succeeds' },
  pm_card_chargeDeclined: { brand: 'visa', last4: '0002', behaviour: 'is declined' },
  pm_card_authenticationRequired: { brand: 'visa', last4: '3184', behaviour: 'asks for 3-D Secure; declined off-session' },
};

export type AuthenticationOutcome = 'complete' | 'fail';

/** What a card holder's action did, and how the endpoint answered its event (null when no endpoint is set). */
export interface ActionResult {
  object: Record<string, any>;
  delivery: WebhookDelivery | null;
}

/** An event of what a request did, sent once it is answered. */
export type Emit = (type: string, object: Record<string, any>) => void;

export const stripeId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

/** An intent is named by its id or by its client secret, which begins with the id. */
export const intentId = (idOrSecret: string) => idOrSecret.split('_secret_')[0];

export class StripeError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.message));
  }
}

export const invalid = (message: string, param?: string) => new StripeError(400, { type: 'invalid_request_error', message, ...(param && { param }) });

/** Stripe's answer for an id it does not have. */
export function missing(what: string, id: string): StripeError {
  return new StripeError(404, { type: 'invalid_request_error', code: 'resource_missing', message: `No such ${what}: '${id}'` });
}

export function lookup(objects: Map<string, Record<string, any>>, id: string, what: string): Record<string, any> {
  const found = objects.get(id);
  if (!found) throw missing(what, id);
  return found;
}

/** A positive amount in cents, as Stripe checks it. */
export function cents(value: unknown, param: string): number {
  if (typeof value !== 'string' || !/^[1-9]\d{0,11}$/.test(value)) throw invalid(`Invalid positive integer: ${String(value)}`, param);
  return Number(value);
}

export class PaymentsObjects {
  readonly customers = new Map<string, Record<string, any>>();
  readonly paymentIntents = new Map<string, Record<string, any>>();
  readonly setupIntents = new Map<string, Record<string, any>>();
  readonly paymentMethods = new Map<string, Record<string, any>>();
  readonly charges = new Map<string, Record<string, any>>();
  readonly invoices = new Map<string, Record<string, any>>();

  constructor(
    /** The server's URL, where the card holder's pages are. */
    readonly baseUrl: () => string,
    readonly log: (line: string) => void,
    private readonly deliver: (type: string, object: Record<string, any>) => Promise<WebhookDelivery | null>,
  ) {}

  invoice(id: string): Record<string, any> {
    return lookup(this.invoices, id, 'invoice');
  }

  /** Customers live in memory: one that tollgate made before a restart is taken as a new, empty one. */
  customer(id: string): Record<string, any> {
    if (!this.customers.has(id) && /^cus_\w+$/.test(id)) {
      this.customers.set(id, { id, object: 'customer', name: null, address: null, metadata: {}, tax_ids: [], invoice_settings: { default_payment_method: null } });
      this.log(`Customer ${id} is not known (it was made before a restart): taken as a new customer`);
    }
    return lookup(this.customers, id, 'customer');
  }

  /** A PaymentIntent's money moves: its charge, which refunds refer to. */
  succeed(intent: Record<string, any>): void {
    const charge = {
      id: stripeId('ch'),
      object: 'charge',
      amount: intent.amount,
      amount_refunded: 0,
      currency: intent.currency,
      customer: intent.customer,
      payment_intent: intent.id,
      payment_method: intent.payment_method,
      paid: true,
      refunded: false,
      status: 'succeeded',
    };
    this.charges.set(charge.id, charge);
    Object.assign(intent, { status: 'succeeded', latest_charge: charge.id, next_action: null, last_payment_error: null });
  }

  createPaymentIntent(body: Record<string, any>, emit: Emit): Record<string, any> {
    this.customer(body.customer);
    // A saved card charges like the test card it was made from.
    const saved = this.paymentMethods.get(body.payment_method);
    if (saved && saved.customer !== body.customer) throw invalid('The PaymentMethod does not belong to this customer.', 'payment_method');
    const testCard = saved ? saved.test_card : body.payment_method;
    if (!TEST_CARDS[testCard]) {
      throw new StripeError(400, { type: 'invalid_request_error', code: 'resource_missing', param: 'payment_method', message: `No such PaymentMethod: '${body.payment_method}'` });
    }
    const intent: Record<string, any> = {
      id: stripeId('pi'),
      object: 'payment_intent',
      amount: cents(body.amount, 'amount'),
      currency: body.currency,
      customer: body.customer,
      payment_method: body.payment_method,
      description: body.description ?? null,
      metadata: body.metadata ?? {},
      client_secret: null,
      last_payment_error: null,
      latest_charge: null,
      next_action: null,
      status: 'requires_confirmation',
    };
    intent.client_secret = `${intent.id}_secret_${randomBytes(6).toString('hex')}`;
    this.paymentIntents.set(intent.id, intent);
    const offSession = body.off_session === 'true';
    if (testCard === 'pm_card_authenticationRequired' && !offSession) {
      const page = `${this.baseUrl()}/3ds/${intent.id}`;
      Object.assign(intent, { status: 'requires_action', next_action: { type: 'redirect_to_url', redirect_to_url: { url: page, return_url: null } } });
      this.log(`PaymentIntent ${intent.id} of ${dollars(intent.amount)} waits for 3-D Secure: open ${page}, or run: npm run payments:local -- complete ${intent.id}`);
      emit('payment_intent.requires_action', intent);
      return intent;
    }
    if (testCard === 'pm_card_chargeDeclined' || testCard === 'pm_card_authenticationRequired') {
      // Off-session, nobody can authenticate: Stripe declines with authentication_required.
      const error =
        testCard === 'pm_card_chargeDeclined'
          ? { type: 'card_error', code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' }
          : { type: 'card_error', code: 'authentication_required', decline_code: 'authentication_required', message: 'Your card was declined. This transaction requires authentication.' };
      Object.assign(intent, { status: 'requires_payment_method', last_payment_error: error });
      this.log(`PaymentIntent ${intent.id} of ${dollars(intent.amount)}${offSession ? ' off-session' : ''}: declined (${error.message})`);
      emit('payment_intent.payment_failed', intent);
      throw new StripeError(402, { ...error, payment_intent: intent });
    }
    this.succeed(intent);
    this.log(`PaymentIntent ${intent.id} of ${dollars(intent.amount)}${offSession ? ' off-session' : ''}: succeeded`);
    emit('payment_intent.succeeded', intent);
    return intent;
  }

  refund(body: Record<string, any>, emit: Emit): Record<string, any> {
    let chargeId = body.charge;
    if (!chargeId) {
      if (!body.payment_intent) throw invalid('One of `charge` or `payment_intent` is required.');
      const intent = lookup(this.paymentIntents, body.payment_intent, 'payment_intent');
      if (!intent.latest_charge) throw invalid(`This PaymentIntent (${intent.id}) does not have a successful charge to refund.`, 'payment_intent');
      chargeId = intent.latest_charge;
    }
    const charge = lookup(this.charges, chargeId, 'charge');
    const left = charge.amount - charge.amount_refunded;
    const amount = body.amount === undefined ? left : cents(body.amount, 'amount');
    if (left === 0) throw new StripeError(400, { type: 'invalid_request_error', code: 'charge_already_refunded', message: `Charge ${charge.id} has already been refunded.` });
    if (amount > left) throw invalid(`Refund amount (${dollars(amount)}) is greater than unrefunded amount on charge (${dollars(left)})`, 'amount');
    charge.amount_refunded += amount;
    charge.refunded = charge.amount_refunded === charge.amount;
    const created = { id: stripeId('re'), object: 'refund', amount, charge: charge.id, payment_intent: charge.payment_intent, currency: charge.currency, status: 'succeeded' };
    this.log(`Refund ${created.id} of ${dollars(amount)} on ${charge.payment_intent}`);
    emit('charge.refunded', charge);
    return created;
  }

  async confirmSetup(idOrSecret: string, testCard: string): Promise<ActionResult> {
    const intent = lookup(this.setupIntents, intentId(idOrSecret), 'setup_intent');
    if (intent.status !== 'requires_payment_method') throw invalid(`This SetupIntent has already ${intent.status}: a card was saved with it.`);
    const card = TEST_CARDS[testCard];
    if (!card) throw invalid(`No such test card: '${testCard}'. Use one of ${Object.keys(TEST_CARDS).join(', ')}.`, 'payment_method');
    const paymentMethod = {
      id: stripeId('pm'),
      object: 'payment_method',
      type: 'card',
      customer: intent.customer,
      test_card: testCard,
      card: { brand: card.brand, last4: card.last4, exp_month: 12, exp_year: 2034 },
    };
    this.paymentMethods.set(paymentMethod.id, paymentMethod);
    Object.assign(intent, { status: 'succeeded', payment_method: paymentMethod.id });
    this.log(`SetupIntent ${intent.id}: ${testCard} saved as ${paymentMethod.id}`);
    return { object: intent, delivery: await this.deliver('setup_intent.succeeded', intent) };
  }

  /** The customer pays a sent invoice (a send_invoice one) on its page: Stripe reports it with `invoice.paid`. */
  async payInvoice(id: string): Promise<ActionResult> {
    const invoice = this.invoice(id);
    if (invoice.status !== 'open' || invoice.collection_method !== 'send_invoice') throw invalid(`This invoice cannot be paid by the customer: it has status ${invoice.status}.`);
    Object.assign(invoice, { status: 'paid', amount_paid: invoice.total });
    this.log(`Invoice ${invoice.number} of ${dollars(invoice.total)} paid by the customer`);
    return { object: invoice, delivery: await this.deliver('invoice.paid', invoice) };
  }

  async authenticate(idOrSecret: string, outcome: AuthenticationOutcome): Promise<ActionResult> {
    const intent = lookup(this.paymentIntents, intentId(idOrSecret), 'payment_intent');
    if (intent.status !== 'requires_action') throw invalid(`This PaymentIntent does not wait for 3-D Secure: it has status ${intent.status}.`);
    if (outcome === 'complete') {
      this.succeed(intent);
      this.log(`PaymentIntent ${intent.id}: 3-D Secure passed, succeeded`);
      return { object: intent, delivery: await this.deliver('payment_intent.succeeded', intent) };
    }
    Object.assign(intent, {
      status: 'requires_payment_method',
      next_action: null,
      last_payment_error: {
        type: 'card_error',
        code: 'payment_intent_authentication_failure',
        message: 'The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.',
      },
    });
    this.log(`PaymentIntent ${intent.id}: 3-D Secure failed`);
    return { object: intent, delivery: await this.deliver('payment_intent.payment_failed', intent) };
  }
}
