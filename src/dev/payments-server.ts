import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { authenticationPage, deliveryLine, dollars, invoicePage, resultPage, setupPage } from './payments-pages';

/**
 * A Stripe-compatible payments server for development and for the tests: the parts of Stripe's
 * API that tollgate calls (customers and tax IDs, SetupIntents, PaymentIntents on and off
 * session, invoices, refunds), with Stripe's JSON shapes, form-encoded requests, idempotency
 * keys, error bodies and test cards; pages where the card holder saves a card or passes 3-D
 * Secure; and events signed as Stripe signs them. Everything is kept in memory.
 */
export interface PaymentsServer {
  /** For STRIPE_API_BASE. */
  url: string;
  secretKey: string;
  customers: Map<string, Record<string, any>>;
  paymentIntents: Map<string, Record<string, any>>;
  paymentMethods: Map<string, Record<string, any>>;
  invoices: Map<string, Record<string, any>>;
  /** The card holder saves one of Stripe's test cards through a SetupIntent (id or client secret). */
  confirmSetup(setupIntent: string, testCard: string): Promise<ActionResult>;
  /** The card holder passes (`complete`) or fails 3-D Secure for a PaymentIntent (id or client secret). */
  authenticate(paymentIntent: string, outcome: AuthenticationOutcome): Promise<ActionResult>;
  /** Runs before a PaymentIntent's answer is sent, e.g. to deliver its webhook first. */
  beforeIntentAnswer: ((intent: Record<string, any>) => Promise<void>) | null;
  /** Every API request, in order: method, path, decoded form body, idempotency key, arrival time (ms). */
  requests: Array<{ method: string; path: string; body: Record<string, any>; idempotencyKey: string | null; at: number }>;
  /**
   * Stripe out of service, for as long as it is set: `'unreachable'` drops every API request's
   * connection unanswered, a status (500, 502, 503…) answers every API request with it and does
   * nothing. `null` (the default): in service.
   */
  outage: Outage | null;
  /** The API requests an outage turned away, as `requests` lists the served ones. */
  refused: PaymentsServer['requests'];
  close(): Promise<void>;
}

export interface PaymentsServerOptions {
  /** 0 (the default): any free port. */
  port?: number;
  secretKey?: string;
  /** Where events go, signed with the endpoint's secret; without it none are sent. */
  webhook?: { url: string; secret: string } | null;
  /** A line for each thing a developer wants to see: payments, what waits for the card holder, deliveries. */
  log?: (line: string) => void;
}

export type AuthenticationOutcome = 'complete' | 'fail';

export type Outage = 'unreachable' | number;

/** What a card holder's action did, and how the endpoint answered its event (null when no endpoint is set). */
export interface ActionResult {
  object: Record<string, any>;
  delivery: WebhookDelivery | null;
}

export interface WebhookDelivery {
  type: string;
  eventId: string;
  /** The endpoint's HTTP status; null when it could not be reached. */
  status: number | null;
  error: string | null;
}

export interface TestCard {
  brand: string;
  last4: string;
  behaviour: string;
}

/** Stripe's test cards (https://docs.stripe.com/testing) that this server knows. */
const TEST_CARDS: Record<string, TestCard> = {
  pm_card_visa: { brand: 'visa', last4: '4242', behaviour: 'succeeds' },
  pm_card_mastercard: { brand: 'mastercard', last4: '4444', behaviour: 'succeeds' },
  pm_card_chargeDeclined: { brand: 'visa', last4: '0002', behaviour: 'is declined' },
  pm_card_authenticationRequired: { brand: 'visa', last4: '3184', behaviour: 'asks for 3-D Secure; declined off-session' },
};

export const DEFAULT_SECRET_KEY = 'sk_test_local';

/** Attempts of one event's delivery, one second apart and doubling: Stripe's go on for days, a developer's wait not. */
const DELIVERY_ATTEMPTS = 5;

/** `a[b][c]=1` form fields as nested objects, the way Stripe reads them. */
function decodeForm(text: string): Record<string, any> {
  const out: Record<string, any> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const [head, ...rest] = key.split('[').map((part) => part.replace(/]$/, ''));
    let target = out;
    let name = head;
    for (const part of rest) {
      target[name] ??= {};
      target = target[name];
      name = part;
    }
    target[name] = value;
  }
  return out;
}

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

const stripeId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

/** An intent is named by its id or by its client secret, which begins with the id. */
const intentId = (idOrSecret: string) => idOrSecret.split('_secret_')[0];

class StripeError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.message));
  }
}

const invalid = (message: string, param?: string) => new StripeError(400, { type: 'invalid_request_error', message, ...(param && { param }) });

/** Stripe's answer for an id it does not have. */
function missing(what: string, id: string): StripeError {
  return new StripeError(404, { type: 'invalid_request_error', code: 'resource_missing', message: `No such ${what}: '${id}'` });
}

function lookup(objects: Map<string, Record<string, any>>, id: string, what: string): Record<string, any> {
  const found = objects.get(id);
  if (!found) throw missing(what, id);
  return found;
}

/** A positive amount in cents, as Stripe checks it. */
function cents(value: unknown, param: string): number {
  if (typeof value !== 'string' || !/^[1-9]\d{0,11}$/.test(value)) throw invalid(`Invalid positive integer: ${String(value)}`, param);
  return Number(value);
}

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

export async function startPaymentsServer(options: PaymentsServerOptions = {}): Promise<PaymentsServer> {
  // A server that takes any card and pays out nothing must never stand in for Stripe in production.
  if (process.env.NODE_ENV === 'production') {
    throw new Error('The local payments server is a development tool: it does not start with NODE_ENV=production.');
  }
  const secretKey = options.secretKey ?? DEFAULT_SECRET_KEY;
  const log = options.log ?? (() => undefined);
  const customers = new Map<string, Record<string, any>>();
  const paymentIntents = new Map<string, Record<string, any>>();
  const setupIntents = new Map<string, Record<string, any>>();
  const paymentMethods = new Map<string, Record<string, any>>();
  const charges = new Map<string, Record<string, any>>();
  const invoices = new Map<string, Record<string, any>>();
  let invoicesFinalized = 0;
  const requests: PaymentsServer['requests'] = [];
  const answered = new Map<string, { status: number; json: unknown }>();
  const inFlight = new Set<string>();
  const retries = new Set<NodeJS.Timeout>();
  let closed = false;

  const invoice = (id: string) => lookup(invoices, id, 'invoice');

  /** Customers live in memory: one that tollgate made before a restart is taken as a new, empty one. */
  function customer(id: string): Record<string, any> {
    if (!customers.has(id) && /^cus_\w+$/.test(id)) {
      customers.set(id, { id, object: 'customer', name: null, address: null, metadata: {}, tax_ids: [], invoice_settings: { default_payment_method: null } });
      log(`Customer ${id} is not known (it was made before a restart): taken as a new customer`);
    }
    return lookup(customers, id, 'customer');
  }

  /** Sends an event to the endpoint, and again later while it fails; the first attempt's outcome. */
  function deliver(type: string, object: Record<string, any>): Promise<WebhookDelivery | null> {
    const { webhook } = options;
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
      const more = !delivered && number < DELIVERY_ATTEMPTS && !closed;
      log(`${deliveryLine(delivery)} (${object.id})${more ? `; trying again in ${retryMs / 1000} s` : ''}`);
      if (more) {
        const timer = setTimeout(() => {
          retries.delete(timer);
          void attempt(number + 1);
        }, retryMs);
        retries.add(timer);
      }
      return delivery;
    };
    return attempt(1);
  }

  /** A PaymentIntent's money moves: its charge, which refunds refer to. */
  function succeed(intent: Record<string, any>): void {
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
    charges.set(charge.id, charge);
    Object.assign(intent, { status: 'succeeded', latest_charge: charge.id, next_action: null, last_payment_error: null });
  }

  type Emit = (type: string, object: Record<string, any>) => void;

  function createPaymentIntent(body: Record<string, any>, emit: Emit): Record<string, any> {
    customer(body.customer);
    // A saved card charges like the test card it was made from.
    const saved = paymentMethods.get(body.payment_method);
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
    paymentIntents.set(intent.id, intent);
    const offSession = body.off_session === 'true';
    if (testCard === 'pm_card_authenticationRequired' && !offSession) {
      const page = `${server.url}/3ds/${intent.id}`;
      Object.assign(intent, { status: 'requires_action', next_action: { type: 'redirect_to_url', redirect_to_url: { url: page, return_url: null } } });
      log(`PaymentIntent ${intent.id} of ${dollars(intent.amount)} waits for 3-D Secure: open ${page}, or run: npm run payments:local -- complete ${intent.id}`);
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
      log(`PaymentIntent ${intent.id} of ${dollars(intent.amount)}${offSession ? ' off-session' : ''}: declined (${error.message})`);
      emit('payment_intent.payment_failed', intent);
      throw new StripeError(402, { ...error, payment_intent: intent });
    }
    succeed(intent);
    log(`PaymentIntent ${intent.id} of ${dollars(intent.amount)}${offSession ? ' off-session' : ''}: succeeded`);
    emit('payment_intent.succeeded', intent);
    return intent;
  }

  function refund(body: Record<string, any>, emit: Emit): Record<string, any> {
    let chargeId = body.charge;
    if (!chargeId) {
      if (!body.payment_intent) throw invalid('One of `charge` or `payment_intent` is required.');
      const intent = lookup(paymentIntents, body.payment_intent, 'payment_intent');
      if (!intent.latest_charge) throw invalid(`This PaymentIntent (${intent.id}) does not have a successful charge to refund.`, 'payment_intent');
      chargeId = intent.latest_charge;
    }
    const charge = lookup(charges, chargeId, 'charge');
    const left = charge.amount - charge.amount_refunded;
    const amount = body.amount === undefined ? left : cents(body.amount, 'amount');
    if (left === 0) throw new StripeError(400, { type: 'invalid_request_error', code: 'charge_already_refunded', message: `Charge ${charge.id} has already been refunded.` });
    if (amount > left) throw invalid(`Refund amount (${dollars(amount)}) is greater than unrefunded amount on charge (${dollars(left)})`, 'amount');
    charge.amount_refunded += amount;
    charge.refunded = charge.amount_refunded === charge.amount;
    const created = { id: stripeId('re'), object: 'refund', amount, charge: charge.id, payment_intent: charge.payment_intent, currency: charge.currency, status: 'succeeded' };
    log(`Refund ${created.id} of ${dollars(amount)} on ${charge.payment_intent}`);
    emit('charge.refunded', charge);
    return created;
  }

  function route(method: string, path: string, body: Record<string, any>, emit: Emit): unknown {
    let match: RegExpExecArray | null;
    if (method === 'POST' && path === '/v1/customers') {
      const created = {
        id: stripeId('cus'),
        object: 'customer',
        name: body.name ?? null,
        address: body.address ?? null,
        metadata: body.metadata ?? {},
        tax_ids: [] as any[],
        invoice_settings: { default_payment_method: null },
      };
      customers.set(created.id, created);
      return created;
    }
    if (method === 'POST' && (match = /^\/v1\/customers\/([^/]+)$/.exec(path))) {
      const target = customer(match[1]);
      const { invoice_settings: settings, ...changes } = body;
      if (settings?.default_payment_method !== undefined) {
        // The default must be a card of this customer; an empty string clears it.
        const card = settings.default_payment_method || null;
        if (card && paymentMethods.get(card)?.customer !== target.id) {
          throw invalid(`The customer does not have a payment method with the ID ${card}. The payment method must be attached to the customer.`, 'invoice_settings[default_payment_method]');
        }
        target.invoice_settings.default_payment_method = card;
      }
      return Object.assign(target, changes);
    }
    if (method === 'POST' && (match = /^\/v1\/customers\/([^/]+)\/tax_ids$/.exec(path))) {
      // Stripe checks the value against the type; "INVALID" stands for any value it refuses.
      if (body.value === 'INVALID') {
        throw new StripeError(400, { type: 'invalid_request_error', code: 'tax_id_invalid', param: 'value', message: `Invalid value for ${body.type}.` });
      }
      const taxId = { id: stripeId('txi'), object: 'tax_id', type: body.type, value: body.value, customer: match[1] };
      customer(match[1]).tax_ids.push(taxId);
      return taxId;
    }
    if (method === 'DELETE' && (match = /^\/v1\/customers\/([^/]+)\/tax_ids\/([^/]+)$/.exec(path))) {
      const owner = customer(match[1]);
      const index = owner.tax_ids.findIndex((taxId: { id: string }) => taxId.id === match![2]);
      if (index < 0) throw missing('tax id', match[2]);
      owner.tax_ids.splice(index, 1);
      return { id: match[2], object: 'tax_id', deleted: true };
    }
    if (method === 'POST' && path === '/v1/invoices') {
      customer(body.customer);
      const created = {
        id: stripeId('in'),
        object: 'invoice',
        customer: body.customer,
        status: 'draft',
        number: null,
        metadata: body.metadata ?? {},
        lines: [] as any[],
        total: 0,
        invoice_pdf: null,
        hosted_invoice_url: null,
      };
      invoices.set(created.id, created);
      return created;
    }
    if (method === 'POST' && path === '/v1/invoiceitems') {
      const target = invoice(body.invoice);
      if (target.status !== 'draft') throw invalid('The invoice is not a draft.');
      const item = { id: stripeId('ii'), object: 'invoiceitem', amount: cents(body.amount, 'amount'), currency: body.currency, description: body.description };
      target.lines.push(item);
      target.total += item.amount;
      return item;
    }
    if (method === 'POST' && (match = /^\/v1\/invoices\/([^/]+)\/finalize$/.exec(path))) {
      const target = invoice(match[1]);
      if (target.status === 'draft') {
        // Finalizing copies the customer's name, address and tax IDs onto the invoice, as Stripe does.
        const owner = customer(target.customer);
        invoicesFinalized += 1;
        // The invoice is a page of this server; Stripe's invoice_pdf is a PDF.
        const page = `${server.url}/invoices/${target.id}`;
        Object.assign(target, {
          status: 'open',
          number: `TG-${String(invoicesFinalized).padStart(4, '0')}`,
          customer_name: owner.name,
          customer_address: owner.address,
          customer_tax_ids: owner.tax_ids.map((taxId: { type: string; value: string }) => ({ type: taxId.type, value: taxId.value })),
          invoice_pdf: page,
          hosted_invoice_url: page,
        });
      }
      return target;
    }
    if (method === 'POST' && (match = /^\/v1\/invoices\/([^/]+)\/pay$/.exec(path))) {
      const target = invoice(match[1]);
      if (target.status !== 'open' || body.paid_out_of_band !== 'true') throw invalid('This invoice cannot be paid.');
      target.status = 'paid';
      log(`Invoice ${target.number} of ${dollars(target.total)} paid: ${target.hosted_invoice_url}`);
      return target;
    }
    if (method === 'POST' && path === '/v1/setup_intents') {
      customer(body.customer);
      const intent = { id: stripeId('seti'), object: 'setup_intent', customer: body.customer, metadata: body.metadata ?? {}, status: 'requires_payment_method', payment_method: null, client_secret: '' };
      intent.client_secret = `${intent.id}_secret_${randomBytes(6).toString('hex')}`;
      setupIntents.set(intent.id, intent);
      log(`SetupIntent ${intent.id} waits for a card: open ${server.url}/setup/${intent.id}, or run: npm run payments:local -- save-card ${intent.id} pm_card_visa`);
      return intent;
    }
    if (method === 'GET' && (match = /^\/v1\/payment_methods\/([^/]+)$/.exec(path))) {
      return lookup(paymentMethods, match[1], 'PaymentMethod');
    }
    if (method === 'POST' && (match = /^\/v1\/payment_methods\/([^/]+)\/detach$/.exec(path))) {
      const found = lookup(paymentMethods, match[1], 'PaymentMethod');
      if (!found.customer) throw invalid('The payment method you provided is not attached to a customer so detachment is impossible.');
      // Stripe's customer loses its default card with the card.
      const owner = found.customer ? customers.get(found.customer) : undefined;
      if (owner && owner.invoice_settings.default_payment_method === found.id) owner.invoice_settings.default_payment_method = null;
      found.customer = null;
      emit('payment_method.detached', found);
      return found;
    }
    if (method === 'GET' && (match = /^\/v1\/payment_intents\/([^/]+)$/.exec(path))) {
      return lookup(paymentIntents, match[1], 'payment_intent');
    }
    if (method === 'POST' && path === '/v1/payment_intents') return createPaymentIntent(body, emit);
    if (method === 'POST' && path === '/v1/refunds') return refund(body, emit);
    throw new StripeError(404, { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path})` });
  }

  /** Checks the key, replays idempotent requests, and sends the events of what was done after its answer. */
  async function serveApi(request: IncomingMessage, send: (status: number, json: unknown) => void, method: string, path: string): Promise<void> {
    const body = decodeForm(await bodyOf(request));
    const { outage } = server;
    if (outage !== null) {
      const key = request.headers['idempotency-key'];
      server.refused.push({ method, path, body, idempotencyKey: typeof key === 'string' ? key : null, at: Date.now() });
      log(`Request ${method} ${path} refused: ${outage === 'unreachable' ? 'unreachable' : `answered ${outage}`} (outage)`);
      // Turned away before anything is done or remembered under its idempotency key, as by Stripe's front door.
      if (outage === 'unreachable') request.socket.destroy();
      else send(outage, { error: { type: 'api_error', message: 'Stripe is unavailable (an outage of the payments server).' } });
      return;
    }
    const basic = `Basic ${Buffer.from(`${secretKey}:`).toString('base64')}`;
    if (request.headers.authorization !== `Bearer ${secretKey}` && request.headers.authorization !== basic) {
      send(401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
      return;
    }
    const key = request.headers['idempotency-key'];
    const replay = typeof key === 'string' ? answered.get(key) : undefined;
    if (replay) {
      send(replay.status, replay.json);
      return;
    }
    if (typeof key === 'string' && inFlight.has(key)) {
      send(409, { error: { type: 'idempotency_error', message: 'There is currently another in-progress request using this Stripe API key and Idempotency-Key.' } });
      return;
    }
    if (typeof key === 'string') inFlight.add(key);
    requests.push({ method, path, body, idempotencyKey: typeof key === 'string' ? key : null, at: Date.now() });
    const events: Array<[string, Record<string, any>]> = [];
    let answer: { status: number; json: unknown };
    try {
      answer = { status: 200, json: route(method, path, body, (type, object) => events.push([type, object])) };
      const intent = answer.json as Record<string, any>;
      if (intent.object === 'payment_intent' && server.beforeIntentAnswer) await server.beforeIntentAnswer(intent);
    } catch (error) {
      if (!(error instanceof StripeError)) throw error;
      answer = { status: error.status, json: { error: error.body } };
    } finally {
      if (typeof key === 'string') inFlight.delete(key);
    }
    if (typeof key === 'string' && method === 'POST') answered.set(key, answer);
    send(answer.status, answer.json);
    for (const [type, object] of events) void deliver(type, object);
  }

  async function confirmSetup(idOrSecret: string, testCard: string): Promise<ActionResult> {
    const intent = lookup(setupIntents, intentId(idOrSecret), 'setup_intent');
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
    paymentMethods.set(paymentMethod.id, paymentMethod);
    Object.assign(intent, { status: 'succeeded', payment_method: paymentMethod.id });
    log(`SetupIntent ${intent.id}: ${testCard} saved as ${paymentMethod.id}`);
    return { object: intent, delivery: await deliver('setup_intent.succeeded', intent) };
  }

  async function authenticate(idOrSecret: string, outcome: AuthenticationOutcome): Promise<ActionResult> {
    const intent = lookup(paymentIntents, intentId(idOrSecret), 'payment_intent');
    if (intent.status !== 'requires_action') throw invalid(`This PaymentIntent does not wait for 3-D Secure: it has status ${intent.status}.`);
    if (outcome === 'complete') {
      succeed(intent);
      log(`PaymentIntent ${intent.id}: 3-D Secure passed, succeeded`);
      return { object: intent, delivery: await deliver('payment_intent.succeeded', intent) };
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
    log(`PaymentIntent ${intent.id}: 3-D Secure failed`);
    return { object: intent, delivery: await deliver('payment_intent.payment_failed', intent) };
  }

  /** The card holder's pages: JSON for the command line (Accept: application/json), HTML for a browser. */
  async function servePage(request: IncomingMessage, response: ServerResponse, method: string, path: string): Promise<void> {
    const wantsJson = request.headers.accept?.includes('application/json') ?? false;
    const html = (status: number, page: string) => {
      response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      response.end(page);
    };
    const json = (status: number, value: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(value));
    };
    const form = decodeForm(await bodyOf(request));
    let match: RegExpExecArray | null;
    try {
      if ((match = /^\/setup\/([\w]+)$/.exec(path))) {
        if (method === 'GET') return html(200, setupPage(lookup(setupIntents, intentId(match[1]), 'setup_intent'), TEST_CARDS));
        if (method === 'POST') {
          const result = await confirmSetup(match[1], form.card);
          return wantsJson ? json(200, result) : html(200, resultPage('Card saved', `${form.card} was saved as ${result.object.payment_method}.`, result.delivery));
        }
      }
      if ((match = /^\/3ds\/([\w]+)$/.exec(path))) {
        if (method === 'GET') return html(200, authenticationPage(lookup(paymentIntents, intentId(match[1]), 'payment_intent')));
        if (method === 'POST') {
          if (form.outcome !== 'complete' && form.outcome !== 'fail') throw invalid("The outcome is 'complete' or 'fail'.", 'outcome');
          const result = await authenticate(match[1], form.outcome);
          const title = form.outcome === 'complete' ? '3-D Secure passed' : '3-D Secure failed';
          return wantsJson ? json(200, result) : html(200, resultPage(title, `The payment ${result.object.id} has status ${result.object.status}.`, result.delivery));
        }
      }
      if (method === 'GET' && (match = /^\/invoices\/(\w+)$/.exec(path))) return html(200, invoicePage(invoice(match[1])));
      throw new StripeError(404, { type: 'invalid_request_error', message: `No page at ${method} ${path}` });
    } catch (error) {
      if (!(error instanceof StripeError)) throw error;
      return wantsJson ? json(error.status, { error: error.body }) : html(error.status, resultPage('Not done', error.message, null));
    }
  }

  const httpServer = createServer((request, response) => {
    const method = request.method ?? 'GET';
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const send = (status: number, json: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json', 'request-id': stripeId('req') });
      response.end(JSON.stringify(json));
    };
    const served = path.startsWith('/v1/') ? serveApi(request, send, method, path) : servePage(request, response, method, path);
    served.catch((error) => {
      log(`Request ${method} ${path} failed: ${error instanceof Error ? error.stack : String(error)}`);
      if (!response.headersSent) send(500, { error: { type: 'api_error', message: 'The payments server failed on this request.' } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = httpServer.address() as AddressInfo;
  const server: PaymentsServer = {
    url: `http://127.0.0.1:${port}`,
    secretKey,
    customers,
    paymentIntents,
    paymentMethods,
    invoices,
    confirmSetup,
    authenticate,
    requests,
    beforeIntentAnswer: null,
    outage: null,
    refused: [],
    async close() {
      closed = true;
      for (const timer of retries) clearTimeout(timer);
      retries.clear();
      await new Promise((resolve) => httpServer.close(resolve));
    },
  };
  return server;
}
