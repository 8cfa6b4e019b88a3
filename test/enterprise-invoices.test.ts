import { DEFAULT_SECRET_KEY, type PaymentsServer, startPaymentsServer } from '../src/dev/payments-server';
import { createStripe } from '../src/payments/stripe';
import { GATEWAY_TOKEN, startTestApp, type TestApp } from './support/app';
import { createFreshDatabase, type FreshDatabase } from './support/database';
import { createWorkspace, eventually } from './support/fixtures';
import { setCreditTerms } from './support/enterprise';
import { authorize, CAPTURE, createApiKey, debit, type GatewayFixture, gatewaySetup, RELEASE, walletState } from './support/gateway';
import { sendWebhook, WEBHOOK_SECRET, withBillingProfile } from './support/payments';
import { freePort } from './support/process';

/**
 * The monthly invoice of an enterprise account, through a running server that talks to the
 * payments server with the real SDK and gets its webhooks from it. On a database of its own, so
 * that no other file's server (with another payments server) takes its invoice jobs. Costs by
 * hand: $1 per 1M input tokens with the default 10% markup, 1,100 nano-USD a token.
 */

let database: FreshDatabase;
let app: TestApp;
let payments: PaymentsServer;
/** The server's clock, moved by the tests: no sleeps. */
let now = new Date('2026-11-10T12:00:00.000Z');

beforeAll(async () => {
  database = await createFreshDatabase('enterprise_invoices');
  const port = await freePort();
  app = await startTestApp({
    databaseUrl: database.url,
    migrate: true,
    clock: () => now,
    stripe: createStripe({ STRIPE_SECRET_KEY: DEFAULT_SECRET_KEY, STRIPE_API_BASE: `http://127.0.0.1:${port}` }),
    stripeWebhookSecret: WEBHOOK_SECRET,
    jobs: { timeoutSeconds: 30, pollingSeconds: 0.5, invoiceCheckMs: 100 },
  });
  payments = await startPaymentsServer({ port, webhook: { url: `${app.server.url}/webhooks/stripe`, secret: WEBHOOK_SECRET } });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await payments?.close();
  await database?.drop();
});

const INVOICES = `{ organization { invoices(first: 5) { nodes { month amount usage status dueAt paidAt hostedUrl pastDue } } } }`;
const LEDGER = `query ($id: ID!) { node(id: $id) { ... on Wallet { balance transactions(first: 1) { nodes { type amount description } } } } }`;

async function invoices(fixture: GatewayFixture) {
  return (await app.data(INVOICES, {}, fixture.ownerToken)).organization.invoices.nodes;
}

/** An organization on invoice (net 15 days) whose workspaces A and B used the gateway in November 2026, and A again on 1 December. */
async function novemberUsage() {
  now = new Date('2026-11-10T12:00:00.000Z');
  const a = await gatewaySetup(app, null);
  await withBillingProfile(app, a.ownerToken);
  const workspaceB = await createWorkspace(app, a.ownerToken);
  const b: GatewayFixture = { ...a, ...workspaceB, ...(await createApiKey(app, a.ownerToken, workspaceB.workspaceId)) };
  await setCreditTerms(app, a.organizationId, '10', 15);
  const used = async (fixture: GatewayFixture, inputTokens: number) => expect(await debit(app, fixture, { inputTokens })).toMatchObject({ allowed: true });
  // A: 250,000 tokens ($0.275), and 1,000 ($0.0011) in the last millisecond of November: $0.2761, billed $0.28.
  await used(a, 250_000);
  now = new Date('2026-11-30T23:59:59.999Z');
  await used(a, 1_000);
  // B: 12,345 tokens, $0.0135795: billed $0.02.
  await used(b, 12_345);
  expect(await app.server.workers.enterpriseInvoices!.checkMonthEnd()).toBe(0);
  // December's first call is December's.
  now = new Date('2026-12-01T00:00:00.000Z');
  await used(a, 1_000);
  return { a, b };
}

describe('the month-end invoice of an enterprise account', () => {
  let a: GatewayFixture;
  let b: GatewayFixture;
  let stripeInvoice: Record<string, any>;

  beforeAll(async () => {
    ({ a, b } = await novemberUsage());
  });

  it("is sent through Stripe once the month has ended: the month's usage per workspace, rounded up to the cent, due on net terms", async () => {
    const [invoice] = await eventually(async () => {
      const found = await invoices(a);
      return found[0]?.status === 'OPEN' && found;
    });
    stripeInvoice = [...payments.invoices.values()].find((candidate) => candidate.metadata.organization_id === a.organizationId)!;
    expect(invoice).toEqual({
      month: '2026-11',
      amount: '0.3',
      usage: '0.2896795',
      status: 'OPEN',
      dueAt: '2026-12-16T00:00:00.000Z',
      paidAt: null,
      hostedUrl: stripeInvoice.hosted_invoice_url,
      pastDue: false,
    });
    expect(stripeInvoice).toMatchObject({ status: 'open', collection_method: 'send_invoice', days_until_due: 15, total: 30 });
    const items = stripeInvoice.lines.map((line: { amount: number; description: string }) => [line.amount, line.description]);
    expect(items.sort()).toEqual([
      [2, expect.stringMatching(/^Usage of workspace .+ in November 2026: \$0\.0135795$/)],
      [28, expect.stringMatching(/^Usage of workspace .+ in November 2026: \$0\.2761$/)],
    ]);
    const calls = payments.requests.filter((request) => request.path.startsWith('/v1/invoice'));
    expect(calls.map((call) => call.path.replace(stripeInvoice.id, ':id'))).toEqual([
      '/v1/invoices',
      '/v1/invoiceitems',
      '/v1/invoiceitems',
      '/v1/invoices/:id/finalize',
      '/v1/invoices/:id/send',
    ]);
    expect(calls[0].body).toMatchObject({ collection_method: 'send_invoice', days_until_due: '15' });
    expect(calls.every((call) => call.idempotencyKey?.endsWith(`-${a.organizationId}-2026-11-01`))).toBe(true);
  });

  it('is made once: a rerun of the check or of the job bills nothing more', async () => {
    const before = payments.requests.length;
    expect(await app.server.workers.enterpriseInvoices!.checkMonthEnd()).toBe(0);
    await app.server.workers.enterpriseInvoices!.issue({ organizationId: a.organizationId, month: '2026-11-01' });
    expect(payments.requests.length).toBe(before);
    expect(await invoices(a)).toHaveLength(1);
  });

  it("past its due date, refuses the organization's debits and authorizations (INVOICE_PAST_DUE 402); the calls already held are captured and released", async () => {
    now = new Date('2026-12-15T23:59:59.999Z');
    const [captured, released] = [await authorize(app, a, { maxInputTokens: 1000 }), await authorize(app, a, { maxInputTokens: 1000 })];
    expect(await debit(app, a)).toMatchObject({ allowed: true });
    expect((await invoices(a))[0].pastDue).toBe(false);
    now = new Date('2026-12-16T00:00:00.000Z');
    const pastDue = { allowed: false, denial: { code: 'INVOICE_PAST_DUE', httpStatus: 402, message: 'An invoice is past due. Please pay it to continue.', retryAfterSeconds: null } };
    expect(await debit(app, a)).toMatchObject(pastDue);
    expect(await debit(app, b)).toMatchObject(pastDue);
    expect(await authorize(app, a, { maxInputTokens: 1000 })).toMatchObject(pastDue);
    expect((await invoices(a))[0]).toMatchObject({ status: 'OPEN', pastDue: true });
    const { gatewayCapture } = await app.data(CAPTURE, { input: { holdId: captured.hold.id, inputTokens: 1000, outputTokens: 0 } }, GATEWAY_TOKEN);
    expect(gatewayCapture).toMatchObject({ allowed: true, charged: '0.0011' });
    expect((await app.data(RELEASE, { input: { holdId: released.hold.id } }, GATEWAY_TOKEN)).gatewayRelease).toMatchObject({ allowed: true });
    // Another organization's keys are not concerned.
    expect(await debit(app, await gatewaySetup(app, '1'))).toMatchObject({ allowed: true });
  });

  it('paid by the customer (invoice.paid), credits each wallet what its usage was billed, once, and lifts the past due', async () => {
    now = new Date('2026-12-16T09:30:00.000Z');
    const paid = await payments.payInvoice(stripeInvoice.id);
    expect(paid.delivery).toMatchObject({ type: 'invoice.paid', status: 200 });
    expect(await invoices(a)).toEqual([expect.objectContaining({ status: 'PAID', paidAt: '2026-12-16T09:30:00.000Z', pastDue: false })]);
    // A: -$0.2761 in November, -$0.0011 on 1 December, -$0.0022 on 15-16 December, +$0.28. B: -$0.0135795, +$0.02.
    for (const [fixture, balance, credited] of [
      [a, '0.0006', '0.28'],
      [b, '0.0064205', '0.02'],
    ] as const) {
      const { node } = await app.data(LEDGER, { id: fixture.walletId }, fixture.ownerToken);
      expect(node).toEqual({ balance, transactions: { nodes: [{ type: 'INVOICE_PAYMENT', amount: credited, description: 'Invoice of 2026-11 paid' }] } });
    }
    // Stripe delivers an event again, as it may: nothing more is credited.
    expect(await sendWebhook(app, 'invoice.paid', stripeInvoice)).toBe(200);
    expect(await walletState(app, b.walletId)).toEqual({ balance: 6_420_500n, held: 0n, sum: 6_420_500n, deductions: 1 });
    // Calls go through again.
    expect(await debit(app, a)).toMatchObject({ allowed: true, availableBalance: '9.9995' });
    expect(await walletState(app, a.walletId)).toEqual({ balance: -500_000n, held: 0n, sum: -500_000n, deductions: 6 });
  });
});
