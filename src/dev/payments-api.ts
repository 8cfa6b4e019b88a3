import type { IncomingMessage } from 'node:http';
import { randomBytes } from 'node:crypto';
import { cents, type Emit, invalid, lookup, missing, type PaymentsObjects, StripeError, stripeId } from './payments-objects';
import { dollars } from './payments-pages';
import type { PaymentsServer } from './payments-server';
import type { WebhookSender } from './payments-webhooks';

/** `a[b][c]=1` form fields as nested objects, the way Stripe reads them. */
export function decodeForm(text: string): Record<string, any> {
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

export async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

/** What a test (or a developer) sets and reads of the API as it serves. */
type ApiControls = Pick<PaymentsServer, 'outage' | 'refused' | 'requests' | 'beforeIntentAnswer'>;

/** The parts of Stripe's API (`/v1/…`) that tollgate calls, with Stripe's keys, idempotency and errors. */
export class PaymentsApi {
  private invoicesFinalized = 0;
  /** The answers of POST requests, by idempotency key. */
  private readonly answered = new Map<string, { status: number; json: unknown }>();
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly objects: PaymentsObjects,
    private readonly secretKey: string,
    private readonly webhooks: WebhookSender,
    private readonly controls: ApiControls,
  ) {}

  /** Checks the key, replays idempotent requests, and sends the events of what was done after its answer. */
  async serve(request: IncomingMessage, send: (status: number, json: unknown) => void, method: string, path: string): Promise<void> {
    const body = decodeForm(await bodyOf(request));
    const { outage } = this.controls;
    if (outage !== null) {
      const key = request.headers['idempotency-key'];
      this.controls.refused.push({ method, path, body, idempotencyKey: typeof key === 'string' ? key : null, at: Date.now() });
      this.objects.log(`Request ${method} ${path} refused: ${outage === 'unreachable' ? 'unreachable' : `answered ${outage}`} (outage)`);
      // Turned away before anything is done or remembered under its idempotency key, as by Stripe's front door.
      if (outage === 'unreachable') request.socket.destroy();
      else send(outage, { error: { type: 'api_error', message: 'Stripe is unavailable (an outage of the payments server).' } });
      return;
    }
    const basic = `Basic ${Buffer.from(`${this.secretKey}:`).toString('base64')}`;
    if (request.headers.authorization !== `Bearer ${this.secretKey}` && request.headers.authorization !== basic) {
      send(401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
      return;
    }
    const key = request.headers['idempotency-key'];
    const replay = typeof key === 'string' ? this.answered.get(key) : undefined;
    if (replay) {
      send(replay.status, replay.json);
      return;
    }
    if (typeof key === 'string' && this.inFlight.has(key)) {
      send(409, { error: { type: 'idempotency_error', message: 'There is currently another in-progress request using this Stripe API key and Idempotency-Key.' } });
      return;
    }
    if (typeof key === 'string') this.inFlight.add(key);
    this.controls.requests.push({ method, path, body, idempotencyKey: typeof key === 'string' ? key : null, at: Date.now() });
    const events: Array<[string, Record<string, any>]> = [];
    let answer: { status: number; json: unknown };
    try {
      answer = { status: 200, json: this.route(method, path, body, (type, object) => events.push([type, object])) };
      const intent = answer.json as Record<string, any>;
      if (intent.object === 'payment_intent' && this.controls.beforeIntentAnswer) await this.controls.beforeIntentAnswer(intent);
    } catch (error) {
      if (!(error instanceof StripeError)) throw error;
      answer = { status: error.status, json: { error: error.body } };
    } finally {
      if (typeof key === 'string') this.inFlight.delete(key);
    }
    if (typeof key === 'string' && method === 'POST') this.answered.set(key, answer);
    send(answer.status, answer.json);
    for (const [type, object] of events) void this.webhooks.deliver(type, object);
  }

  private route(method: string, path: string, body: Record<string, any>, emit: Emit): unknown {
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
      this.objects.customers.set(created.id, created);
      return created;
    }
    if (method === 'POST' && (match = /^\/v1\/customers\/([^/]+)$/.exec(path))) {
      const target = this.objects.customer(match[1]);
      const { invoice_settings: settings, ...changes } = body;
      if (settings?.default_payment_method !== undefined) {
        // The default must be a card of this customer; an empty string clears it.
        const card = settings.default_payment_method || null;
        if (card && this.objects.paymentMethods.get(card)?.customer !== target.id) {
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
      this.objects.customer(match[1]).tax_ids.push(taxId);
      return taxId;
    }
    if (method === 'DELETE' && (match = /^\/v1\/customers\/([^/]+)\/tax_ids\/([^/]+)$/.exec(path))) {
      const owner = this.objects.customer(match[1]);
      const index = owner.tax_ids.findIndex((taxId: { id: string }) => taxId.id === match![2]);
      if (index < 0) throw missing('tax id', match[2]);
      owner.tax_ids.splice(index, 1);
      return { id: match[2], object: 'tax_id', deleted: true };
    }
    if (method === 'POST' && path === '/v1/invoices') {
      this.objects.customer(body.customer);
      const created = {
        id: stripeId('in'),
        object: 'invoice',
        customer: body.customer,
        status: 'draft',
        number: null,
        collection_method: body.collection_method ?? 'charge_automatically',
        days_until_due: body.days_until_due === undefined ? null : Number(body.days_until_due),
        due_date: null as number | null,
        description: body.description ?? null,
        amount_paid: 0,
        metadata: body.metadata ?? {},
        lines: [] as any[],
        total: 0,
        invoice_pdf: null,
        hosted_invoice_url: null,
      };
      this.objects.invoices.set(created.id, created);
      return created;
    }
    if (method === 'POST' && path === '/v1/invoiceitems') {
      const target = this.objects.invoice(body.invoice);
      if (target.status !== 'draft') throw invalid('The invoice is not a draft.');
      const item = { id: stripeId('ii'), object: 'invoiceitem', amount: cents(body.amount, 'amount'), currency: body.currency, description: body.description };
      target.lines.push(item);
      target.total += item.amount;
      return item;
    }
    if (method === 'POST' && (match = /^\/v1\/invoices\/([^/]+)\/finalize$/.exec(path))) {
      const target = this.objects.invoice(match[1]);
      if (target.status === 'draft') {
        // Finalizing copies the customer's name, address and tax IDs onto the invoice, as Stripe does.
        const owner = this.objects.customer(target.customer);
        this.invoicesFinalized += 1;
        // The invoice is a page of this server; Stripe's invoice_pdf is a PDF.
        const page = `${this.objects.baseUrl()}/invoices/${target.id}`;
        Object.assign(target, {
          status: 'open',
          number: `TG-${String(this.invoicesFinalized).padStart(4, '0')}`,
          customer_name: owner.name,
          customer_address: owner.address,
          customer_tax_ids: owner.tax_ids.map((taxId: { type: string; value: string }) => ({ type: taxId.type, value: taxId.value })),
          invoice_pdf: page,
          hosted_invoice_url: page,
          // Stripe dates a send_invoice invoice's due date from its finalization.
          due_date: target.days_until_due === null ? null : Math.floor(Date.now() / 1000) + target.days_until_due * 86_400,
        });
      }
      return target;
    }
    if (method === 'POST' && (match = /^\/v1\/invoices\/([^/]+)\/send$/.exec(path))) {
      const target = this.objects.invoice(match[1]);
      if (target.status !== 'open' || target.collection_method !== 'send_invoice') throw invalid('Only open invoices with collection_method send_invoice can be sent.');
      this.objects.log(`Invoice ${target.number} of ${dollars(target.total)} sent, due ${new Date(target.due_date * 1000).toISOString()}: pay it at ${target.hosted_invoice_url}, or run: npm run payments:local -- pay-invoice ${target.id}`);
      return target;
    }
    if (method === 'POST' && (match = /^\/v1\/invoices\/([^/]+)\/pay$/.exec(path))) {
      const target = this.objects.invoice(match[1]);
      if (target.status !== 'open' || body.paid_out_of_band !== 'true') throw invalid('This invoice cannot be paid.');
      Object.assign(target, { status: 'paid', amount_paid: target.total });
      this.objects.log(`Invoice ${target.number} of ${dollars(target.total)} paid: ${target.hosted_invoice_url}`);
      return target;
    }
    if (method === 'POST' && path === '/v1/setup_intents') {
      this.objects.customer(body.customer);
      const intent = { id: stripeId('seti'), object: 'setup_intent', customer: body.customer, metadata: body.metadata ?? {}, status: 'requires_payment_method', payment_method: null, client_secret: '' };
      intent.client_secret = `${intent.id}_secret_${randomBytes(6).toString('hex')}`;
      this.objects.setupIntents.set(intent.id, intent);
      this.objects.log(`SetupIntent ${intent.id} waits for a card: open ${this.objects.baseUrl()}/setup/${intent.id}, or run: npm run payments:local -- save-card ${intent.id} pm_card_visa`);
      return intent;
    }
    if (method === 'GET' && (match = /^\/v1\/payment_methods\/([^/]+)$/.exec(path))) {
      return lookup(this.objects.paymentMethods, match[1], 'PaymentMethod');
    }
    if (method === 'POST' && (match = /^\/v1\/payment_methods\/([^/]+)\/detach$/.exec(path))) {
      const found = lookup(this.objects.paymentMethods, match[1], 'PaymentMethod');
      if (!found.customer) throw invalid('The payment method you provided is not attached to a customer so detachment is impossible.');
      // Stripe's customer loses its default card with the card.
      const owner = found.customer ? this.objects.customers.get(found.customer) : undefined;
      if (owner && owner.invoice_settings.default_payment_method === found.id) owner.invoice_settings.default_payment_method = null;
      found.customer = null;
      emit('payment_method.detached', found);
      return found;
    }
    if (method === 'GET' && (match = /^\/v1\/payment_intents\/([^/]+)$/.exec(path))) {
      return lookup(this.objects.paymentIntents, match[1], 'payment_intent');
    }
    if (method === 'POST' && path === '/v1/payment_intents') return this.objects.createPaymentIntent(body, emit);
    if (method === 'POST' && path === '/v1/refunds') return this.objects.refund(body, emit);
    throw new StripeError(404, { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path})` });
  }
}
