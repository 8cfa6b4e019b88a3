import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bodyOf, decodeForm, PaymentsApi } from './payments-api';
import { type ActionResult, type AuthenticationOutcome, intentId, invalid, lookup, PaymentsObjects, StripeError, stripeId, TEST_CARDS } from './payments-objects';
import { authenticationPage, invoicePage, resultPage, setupPage } from './payments-pages';
import { WebhookSender } from './payments-webhooks';

/**
 * A Stripe-compatible payments server for development and for the tests: the parts of Stripe's
 * API that tollgate calls (customers and tax IDs, SetupIntents, PaymentIntents on and off
 * session, invoices sent and paid, refunds), with Stripe's JSON shapes, form-encoded requests, idempotency
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
  /** The customer pays a sent invoice, as on its hosted page. */
  payInvoice(invoice: string): Promise<ActionResult>;
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

export type Outage = 'unreachable' | number;

export const DEFAULT_SECRET_KEY = 'sk_test_local';

export async function startPaymentsServer(options: PaymentsServerOptions = {}): Promise<PaymentsServer> {
  // A server that takes any card and pays out nothing must never stand in for Stripe in production.
  if (process.env.NODE_ENV === 'production') {
    throw new Error('The local payments server is a development tool: it does not start with NODE_ENV=production.');
  }
  const secretKey = options.secretKey ?? DEFAULT_SECRET_KEY;
  const log = options.log ?? (() => undefined);
  const webhooks = new WebhookSender(options.webhook ?? null, log);
  const objects = new PaymentsObjects(() => server.url, log, (type, object) => webhooks.deliver(type, object));
  const server: PaymentsServer = {
    // Known once it listens, before any request can come.
    url: '',
    secretKey,
    customers: objects.customers,
    paymentIntents: objects.paymentIntents,
    paymentMethods: objects.paymentMethods,
    invoices: objects.invoices,
    confirmSetup: (setupIntent, testCard) => objects.confirmSetup(setupIntent, testCard),
    authenticate: (paymentIntent, outcome) => objects.authenticate(paymentIntent, outcome),
    payInvoice: (invoice) => objects.payInvoice(invoice),
    requests: [],
    beforeIntentAnswer: null,
    outage: null,
    refused: [],
    async close() {
      webhooks.close();
      await new Promise((resolve) => httpServer.close(resolve));
    },
  };
  const api = new PaymentsApi(objects, secretKey, webhooks, server);

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
        if (method === 'GET') return html(200, setupPage(lookup(objects.setupIntents, intentId(match[1]), 'setup_intent'), TEST_CARDS));
        if (method === 'POST') {
          const result = await objects.confirmSetup(match[1], form.card);
          return wantsJson ? json(200, result) : html(200, resultPage('Card saved', `${form.card} was saved as ${result.object.payment_method}.`, result.delivery));
        }
      }
      if ((match = /^\/3ds\/([\w]+)$/.exec(path))) {
        if (method === 'GET') return html(200, authenticationPage(lookup(objects.paymentIntents, intentId(match[1]), 'payment_intent')));
        if (method === 'POST') {
          if (form.outcome !== 'complete' && form.outcome !== 'fail') throw invalid("The outcome is 'complete' or 'fail'.", 'outcome');
          const result = await objects.authenticate(match[1], form.outcome);
          const title = form.outcome === 'complete' ? '3-D Secure passed' : '3-D Secure failed';
          return wantsJson ? json(200, result) : html(200, resultPage(title, `The payment ${result.object.id} has status ${result.object.status}.`, result.delivery));
        }
      }
      if ((match = /^\/invoices\/(\w+)$/.exec(path))) {
        if (method === 'GET') return html(200, invoicePage(objects.invoice(match[1])));
        if (method === 'POST') {
          const result = await objects.payInvoice(match[1]);
          return wantsJson ? json(200, result) : html(200, resultPage('Invoice paid', `Invoice ${result.object.number} is paid.`, result.delivery));
        }
      }
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
    const served = path.startsWith('/v1/') ? api.serve(request, send, method, path) : servePage(request, response, method, path);
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
  server.url = `http://127.0.0.1:${port}`;
  return server;
}
