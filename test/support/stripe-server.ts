import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A Stripe-shaped API on 127.0.0.1 for the real `stripe` SDK: only the endpoints tollgate
 * calls, with Stripe's JSON shapes, form-encoded requests, idempotency keys and error bodies.
 */
export interface StripeStandIn {
  /** For STRIPE_API_BASE. */
  url: string;
  secretKey: string;
  customers: Map<string, Record<string, any>>;
  paymentIntents: Map<string, Record<string, any>>;
  /** The dashboard confirms a SetupIntent with one of Stripe's test cards: a card is attached (its webhook is the test's to send). */
  confirmSetup(setupIntentId: string, testCard: string): Record<string, any>;
  paymentMethods: Map<string, Record<string, any>>;
  invoices: Map<string, Record<string, any>>;
  /** The card holder completes 3-D Secure: the intent succeeds (its webhook is the test's to send). */
  completeAction(intentId: string): Record<string, any>;
  /** Runs before a PaymentIntent's answer is sent, e.g. to deliver its webhook first. */
  beforeIntentAnswer: ((intent: Record<string, any>) => Promise<void>) | null;
  /** Every request, in order: method, path, decoded form body, idempotency key, arrival time (ms). */
  requests: Array<{ method: string; path: string; body: Record<string, any>; idempotencyKey: string | null; at: number }>;
  close(): Promise<void>;
}

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

class StripeError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.message));
  }
}

/** Stripe's answer for an id it does not have. */
function missing(what: string, id: string): StripeError {
  return new StripeError(404, { type: 'invalid_request_error', code: 'resource_missing', message: `No such ${what}: '${id}'` });
}

function lookup(objects: Map<string, Record<string, any>>, id: string, what: string): Record<string, any> {
  const found = objects.get(id);
  if (!found) throw missing(what, id);
  return found;
}

export async function startStripeStandIn(): Promise<StripeStandIn> {
  const secretKey = `sk_test_${randomBytes(12).toString('hex')}`;
  const customers = new Map<string, Record<string, any>>();
  const paymentIntents = new Map<string, Record<string, any>>();
  const setupIntents = new Map<string, Record<string, any>>();
  const invoices = new Map<string, Record<string, any>>();
  const invoice = (id: string) => lookup(invoices, id, 'invoice');
  const paymentMethods = new Map<string, Record<string, any>>();
  const TEST_CARDS: Record<string, { brand: string; last4: string }> = {
    pm_card_visa: { brand: 'visa', last4: '4242' },
    pm_card_mastercard: { brand: 'mastercard', last4: '4444' },
    pm_card_chargeDeclined: { brand: 'visa', last4: '0002' },
    pm_card_authenticationRequired: { brand: 'visa', last4: '3184' },
  };
  const requests: StripeStandIn['requests'] = [];
  const answered = new Map<string, { status: number; json: unknown }>();
  const inFlight = new Set<string>();

  const customer = (id: string) => lookup(customers, id, 'customer');

  function route(method: string, path: string, body: Record<string, any>): unknown {
    let match: RegExpExecArray | null;
    if (method === 'POST' && path === '/v1/customers') {
      const created = { id: stripeId('cus'), object: 'customer', name: body.name ?? null, address: body.address ?? null, metadata: body.metadata ?? {}, tax_ids: [] as any[] };
      customers.set(created.id, created);
      return created;
    }
    if (method === 'POST' && (match = /^\/v1\/customers\/([^/]+)$/.exec(path))) {
      return Object.assign(customer(match[1]), body);
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
      const created = { id: stripeId('in'), object: 'invoice', customer: body.customer, status: 'draft', number: null, metadata: body.metadata ?? {}, lines: [] as any[], total: 0, invoice_pdf: null };
      invoices.set(created.id, created);
      return created;
    }
    if (method === 'POST' && path === '/v1/invoiceitems') {
      const target = invoice(body.invoice);
      if (target.status !== 'draft') throw new StripeError(400, { type: 'invalid_request_error', message: 'The invoice is not a draft.' });
      const item = { id: stripeId('ii'), object: 'invoiceitem', amount: Number(body.amount), currency: body.currency, description: body.description };
      target.lines.push(item);
      target.total += item.amount;
      return item;
    }
    if (method === 'POST' && (match = /^\/v1\/invoices\/([^/]+)\/finalize$/.exec(path))) {
      const target = invoice(match[1]);
      if (target.status === 'draft') {
        // Finalizing copies the customer's name, address and tax IDs onto the invoice, as Stripe does.
        const owner = customer(target.customer);
        Object.assign(target, {
          status: 'open',
          number: `TG-${String(invoices.size).padStart(4, '0')}`,
          customer_name: owner.name,
          customer_address: owner.address,
          customer_tax_ids: owner.tax_ids.map((taxId: { type: string; value: string }) => ({ type: taxId.type, value: taxId.value })),
          invoice_pdf: `${standIn.url}/invoice/${target.id}/pdf`,
        });
      }
      return target;
    }
    if (method === 'POST' && (match = /^\/v1\/invoices\/([^/]+)\/pay$/.exec(path))) {
      const target = invoice(match[1]);
      if (target.status !== 'open' || body.paid_out_of_band !== 'true') throw new StripeError(400, { type: 'invalid_request_error', message: 'This invoice cannot be paid.' });
      target.status = 'paid';
      return target;
    }
    if (method === 'POST' && path === '/v1/setup_intents') {
      customer(body.customer);
      const intent = { id: stripeId('seti'), object: 'setup_intent', customer: body.customer, metadata: body.metadata ?? {}, status: 'requires_payment_method', payment_method: null, client_secret: '' };
      intent.client_secret = `${intent.id}_secret_${randomBytes(6).toString('hex')}`;
      setupIntents.set(intent.id, intent);
      return intent;
    }
    if (method === 'GET' && (match = /^\/v1\/payment_methods\/([^/]+)$/.exec(path))) {
      return lookup(paymentMethods, match[1], 'PaymentMethod');
    }
    if (method === 'POST' && (match = /^\/v1\/payment_methods\/([^/]+)\/detach$/.exec(path))) {
      const found = lookup(paymentMethods, match[1], 'PaymentMethod');
      found.customer = null;
      return found;
    }
    if (method === 'GET' && (match = /^\/v1\/payment_intents\/([^/]+)$/.exec(path))) {
      return lookup(paymentIntents, match[1], 'payment_intent');
    }
    if (method === 'POST' && path === '/v1/payment_intents') {
      customer(body.customer);
      // A saved card charges like the test card it was made from.
      const saved = paymentMethods.get(body.payment_method);
      if (saved) {
        if (saved.customer !== body.customer) throw new StripeError(400, { type: 'invalid_request_error', message: 'The PaymentMethod does not belong to this customer.' });
        body.payment_method = saved.test_card;
      }
      const intent: Record<string, any> = {
        id: stripeId('pi'),
        object: 'payment_intent',
        amount: Number(body.amount),
        currency: body.currency,
        customer: body.customer,
        payment_method: body.payment_method,
        metadata: body.metadata ?? {},
        client_secret: null,
        last_payment_error: null,
        status: 'requires_confirmation',
      };
      intent.client_secret = `${intent.id}_secret_${randomBytes(6).toString('hex')}`;
      paymentIntents.set(intent.id, intent);
      // Stripe's test cards: https://docs.stripe.com/testing
      if (body.payment_method === 'pm_card_visa') intent.status = 'succeeded';
      else if (body.payment_method === 'pm_card_authenticationRequired' && body.off_session !== 'true') intent.status = 'requires_action';
      else if (body.payment_method === 'pm_card_chargeDeclined' || body.payment_method === 'pm_card_authenticationRequired') {
        // Off-session, nobody can authenticate: Stripe declines with authentication_required.
        const error =
          body.payment_method === 'pm_card_chargeDeclined'
            ? { type: 'card_error', code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' }
            : { type: 'card_error', code: 'authentication_required', decline_code: 'authentication_required', message: 'Your card was declined. This transaction requires authentication.' };
        Object.assign(intent, { status: 'requires_payment_method', last_payment_error: error });
        throw new StripeError(402, { ...error, payment_intent: intent });
      } else {
        paymentIntents.delete(intent.id);
        throw new StripeError(400, { type: 'invalid_request_error', code: 'resource_missing', param: 'payment_method', message: `No such PaymentMethod: '${body.payment_method}'` });
      }
      return intent;
    }
    throw new StripeError(404, { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path})` });
  }

  const server = createServer(async (request, response) => {
    const method = request.method ?? 'GET';
    const path = new URL(request.url ?? '/', 'http://stripe').pathname;
    const body = decodeForm(await bodyOf(request));
    const send = (status: number, json: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json', 'request-id': stripeId('req') });
      response.end(JSON.stringify(json));
    };
    if (request.headers.authorization !== `Bearer ${secretKey}`) {
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
    let answer: { status: number; json: unknown };
    try {
      answer = { status: 200, json: route(method, path, body) };
      const intent = answer.json as Record<string, any>;
      if (intent.object === 'payment_intent' && standIn.beforeIntentAnswer) await standIn.beforeIntentAnswer(intent);
    } catch (error) {
      if (!(error instanceof StripeError)) throw error;
      answer = { status: error.status, json: { error: error.body } };
    }
    if (typeof key === 'string') {
      inFlight.delete(key);
      if (method === 'POST') answered.set(key, answer);
    }
    send(answer.status, answer.json);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const standIn: StripeStandIn = {
    url: `http://127.0.0.1:${port}`,
    secretKey,
    customers,
    paymentIntents,
    paymentMethods,
    invoices,
    confirmSetup(setupIntentId, testCard) {
      const intent = setupIntents.get(setupIntentId)!;
      const card = TEST_CARDS[testCard];
      const paymentMethod = { id: stripeId('pm'), object: 'payment_method', type: 'card', customer: intent.customer, test_card: testCard, card: { ...card, exp_month: 12, exp_year: 2034 } };
      paymentMethods.set(paymentMethod.id, paymentMethod);
      Object.assign(intent, { status: 'succeeded', payment_method: paymentMethod.id });
      return intent;
    },
    completeAction(intentId) {
      const intent = paymentIntents.get(intentId)!;
      intent.status = 'succeeded';
      return intent;
    },
    requests,
    beforeIntentAnswer: null,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  return standIn;
}
