import Stripe from 'stripe';
import { DEFAULT_SECRET_KEY, type Outage, type PaymentsServer, startPaymentsServer } from '../src/dev/payments-server';
import { createStripe } from '../src/payments/stripe';
import { startTestApp, type TestApp } from './support/app';
import { createFreshDatabase, type FreshDatabase } from './support/database';
import { eventually, fund, organizationWithWorkspace, unique } from './support/fixtures';
import { debit, type GatewayFixture, gatewaySetup, walletState } from './support/gateway';
import { saveCard, sendWebhook, WEBHOOK_SECRET } from './support/payments';
import { freePort } from './support/process';

/**
 * Stripe away and Stripe's events out of order, through a running server that talks to the
 * payments server with the real SDK, and gets its webhooks from it. On a database of its own:
 * every server on the run's database takes auto top-up jobs from one queue, and charges them
 * through its own payments server.
 */

let database: FreshDatabase;
let app: TestApp;
let payments: PaymentsServer;
/** The operator's own Stripe client, for what is done in Stripe's dashboard: refunds, detaching a card. */
let stripe: Stripe;
const logged: string[] = [];

beforeAll(async () => {
  database = await createFreshDatabase('payment_faults');
  // tollgate is told where the payments server will be, the payments server where tollgate is.
  const port = await freePort();
  app = await startTestApp({
    databaseUrl: database.url,
    migrate: true,
    stripe: createStripe({ STRIPE_SECRET_KEY: DEFAULT_SECRET_KEY, STRIPE_API_BASE: `http://127.0.0.1:${port}` }),
    stripeWebhookSecret: WEBHOOK_SECRET,
    jobs: { timeoutSeconds: 30, pollingSeconds: 0.5 },
    autoTopUp: { dailyLimit: 10, retryDelaySeconds: 1, bonus: false },
  });
  payments = await startPaymentsServer({ port, webhook: { url: `${app.server.url}/webhooks/stripe`, secret: WEBHOOK_SECRET }, log: (line) => logged.push(line) });
  stripe = new Stripe(payments.secretKey, { host: '127.0.0.1', port, protocol: 'http' });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await payments?.close();
  await database?.drop();
});

const PURCHASE = `mutation ($input: PurchaseCreateInput!) {
  purchaseCreate(input: $input) { purchase { id status amount bonus refunded } clientSecret userErrors { field code message } }
}`;
const PURCHASES = `query ($kinds: [PurchaseKind!]) { organization { purchases(first: 10, kinds: $kinds) { nodes { id kind status amount refunded failureReason } } } }`;
const WALLET = `query ($id: ID!) {
  node(id: $id) { ... on Wallet { balance autoTopUp { enabled disabledReason } transactions(first: 20) { nodes { type amount } } } }
}`;
const AUTO_TOP_UP = `mutation ($input: AutoTopUpUpdateInput!) { autoTopUpUpdate(input: $input) { userErrors { code message } } }`;
const CARDS = `{ organization { paymentMethods { id isDefault } } }`;

interface Wallet {
  balance: string;
  autoTopUp: { enabled: boolean; disabledReason: string | null };
  transactions: { nodes: Array<{ type: string; amount: string }> };
}

const walletOf = async (walletId: string, token: string): Promise<Wallet> => (await app.data(WALLET, { id: walletId }, token)).node;
const purchasesOf = async (token: string, kinds: string[] | null = null) =>
  (await app.data(PURCHASES, { kinds }, token)).organization.purchases.nodes as Array<{ id: string; kind: string; status: string; amount: string; refunded: string; failureReason: string | null }>;
const intentsOf = (purchaseId: string) => [...payments.paymentIntents.values()].filter((intent) => intent.metadata.purchase_id === purchaseId);
/** Waits for the payments server to have delivered `times` events of `type` about `objectId`, and tollgate to have taken them. */
const delivered = (type: string, objectId: string, times = 1) =>
  eventually(async () => logged.filter((line) => line === `Webhook ${type}: answered 200 (${objectId})`).length >= times);

/** Sets an outage of the payments server for the length of `work`. */
async function during<T>(outage: Outage, work: () => Promise<T>): Promise<T> {
  payments.outage = outage;
  try {
    return await work();
  } finally {
    payments.outage = null;
  }
}

async function withAutoTopUp(fixture: GatewayFixture, threshold: string, amount: string) {
  const { autoTopUpUpdate } = await app.data(AUTO_TOP_UP, { input: { walletId: fixture.walletId, enabled: true, threshold, amount } }, fixture.ownerToken);
  expect(autoTopUpUpdate.userErrors).toEqual([]);
}

/** A debit that takes $1 below $0.50: 500,000 input tokens cost $0.55. */
const BIG_DEBIT = { inputTokens: 500_000 };

describe('Stripe unreachable or failing during purchaseCreate', () => {
  it.each<[string, Outage]>([
    ['unreachable', 'unreachable'],
    ['answering 503', 503],
    ['answering 500', 500],
  ])('%s: PAYMENT_PROVIDER_ERROR, the purchase waits PENDING, and the same request later charges and credits it once', async (_, outage) => {
    const org = await organizationWithWorkspace(app);
    await saveCard(app, payments, org.ownerToken, 'pm_card_visa');
    const input = { workspaceId: org.workspaceId, amount: '50', idempotencyKey: unique('outage') };

    const refused = await during(outage, () => app.gql(PURCHASE, { input }, org.ownerToken));
    expect(refused.errors).toBeUndefined();
    expect(refused.data.purchaseCreate).toEqual({
      purchase: null,
      clientSecret: null,
      userErrors: [
        {
          field: null,
          code: 'PAYMENT_PROVIDER_ERROR',
          message: 'Stripe could not be reached: the purchase waits (PENDING). Send the same request again, with the same idempotency key, to complete it; it is charged once',
        },
      ],
    });
    const [pending] = await purchasesOf(org.ownerToken);
    expect(pending).toMatchObject({ status: 'PENDING', amount: '50' });
    // Stripe was asked (its client tried again by itself), and charged nothing.
    const asked = payments.refused.filter((request) => request.path === '/v1/payment_intents' && request.body.metadata?.purchase_id === pending.id);
    expect(asked.length).toBeGreaterThanOrEqual(1);
    expect(new Set(asked.map((request) => request.idempotencyKey))).toEqual(new Set([`tollgate-purchase-${pending.id}`]));
    expect(intentsOf(pending.id)).toEqual([]);
    expect((await walletOf(org.walletId, org.ownerToken)).balance).toBe('0');

    // Stripe is back: the same request completes the same purchase, and a retry of it changes nothing.
    const completed = (await app.data(PURCHASE, { input }, org.ownerToken)).purchaseCreate;
    expect(completed).toEqual({ purchase: { id: pending.id, status: 'SUCCEEDED', amount: '50', bonus: '5', refunded: '0' }, clientSecret: null, userErrors: [] });
    expect((await app.data(PURCHASE, { input }, org.ownerToken)).purchaseCreate).toEqual(completed);
    const [intent] = intentsOf(pending.id);
    await delivered('payment_intent.succeeded', intent.id);
    expect(intentsOf(pending.id)).toHaveLength(1);
    const wallet = await walletOf(org.walletId, org.ownerToken);
    expect(wallet.transactions.nodes).toEqual([
      { type: 'BONUS', amount: '5' },
      { type: 'PURCHASE', amount: '50' },
    ]);
    expect(wallet.balance).toBe('55');
  });
});

describe('the other payment operations during a Stripe outage', () => {
  const PROFILE = `mutation ($input: BillingProfileUpdateInput!) { billingProfileUpdate(input: $input) { userErrors { field code message } } }`;
  const REMOVE = `mutation ($input: PaymentMethodRemoveInput!) { paymentMethodRemove(input: $input) { removedId userErrors { field code message } } }`;
  const SETUP = `mutation { paymentMethodSetupStart(input: {}) { clientSecret userErrors { field code message } } }`;
  const OUTAGE = { field: null, code: 'PAYMENT_PROVIDER_ERROR', message: 'Stripe could not be reached or failed: send the same request again' };

  it('answer PAYMENT_PROVIDER_ERROR, change nothing, and go through once Stripe is back', async () => {
    const org = await organizationWithWorkspace(app);
    await saveCard(app, payments, org.ownerToken, 'pm_card_visa');
    const [card] = (await app.data(CARDS, {}, org.ownerToken)).organization.paymentMethods;
    const profile = { name: 'New Name Ltd', address: { line1: '2 Side Street', city: 'Shelbyville', postalCode: '54321', country: 'US' } };

    expect((await during(503, () => app.data(PROFILE, { input: profile }, org.ownerToken))).billingProfileUpdate.userErrors).toEqual([OUTAGE]);
    expect((await app.data(`{ organization { billingProfile { name } } }`, {}, org.ownerToken)).organization.billingProfile.name).not.toBe(profile.name);
    expect((await during('unreachable', () => app.data(REMOVE, { input: { paymentMethodId: card.id } }, org.ownerToken))).paymentMethodRemove).toEqual({
      removedId: null,
      userErrors: [OUTAGE],
    });
    expect((await app.data(CARDS, {}, org.ownerToken)).organization.paymentMethods).toEqual([card]);
    expect((await during(500, () => app.data(SETUP, {}, org.ownerToken))).paymentMethodSetupStart).toEqual({ clientSecret: null, userErrors: [OUTAGE] });

    expect((await app.data(PROFILE, { input: profile }, org.ownerToken)).billingProfileUpdate.userErrors).toEqual([]);
    expect((await app.data(REMOVE, { input: { paymentMethodId: card.id } }, org.ownerToken)).paymentMethodRemove).toEqual({ removedId: card.id, userErrors: [] });
  });
});

describe('an auto top-up during a Stripe outage', () => {
  it('is tried again by the job queue, waiting longer each time, and credits once when Stripe is back', async () => {
    const fixture = await gatewaySetup(app, '1');
    await saveCard(app, payments, fixture.ownerToken, 'pm_card_visa');
    await withAutoTopUp(fixture, '0.5', '10');
    const attemptsOf = (purchaseId: string) => payments.refused.filter((request) => request.idempotencyKey === `tollgate-auto-top-up-${purchaseId}-1`);
    /** The job's runs: its requests, split where the SDK's own retries (at most a second apart) end; the queue waits 2 s or more. */
    const runsOf = (purchaseId: string) =>
      attemptsOf(purchaseId).reduce<number[][]>((runs, { at }) => {
        const last = runs.at(-1);
        if (last && at - last.at(-1)! < 1900) last.push(at);
        else runs.push([at]);
        return runs;
      }, []);

    payments.outage = 'unreachable';
    let topUpId: string;
    try {
      expect((await debit(app, fixture, BIG_DEBIT)).allowed).toBe(true);
      topUpId = (await eventually(async () => (await purchasesOf(fixture.ownerToken, ['AUTO_TOP_UP']))[0])).id;
      await eventually(async () => runsOf(topUpId).length >= 1);
      // Answering 5xx now, rather than not at all.
      payments.outage = 503;
      await eventually(async () => runsOf(topUpId).length >= 3, 60_000);
    } finally {
      payments.outage = null;
    }
    const runs = runsOf(topUpId);
    // pg-boss's backoff: at least 2 s before the second run, 4 s before the third.
    expect(runs[1][0] - runs[0].at(-1)!).toBeGreaterThanOrEqual(2000);
    expect(runs[2][0] - runs[1].at(-1)!).toBeGreaterThanOrEqual(4000);
    const [pending] = await purchasesOf(fixture.ownerToken, ['AUTO_TOP_UP']);
    // An outage is no decline: nothing is recorded against the card.
    expect(pending).toMatchObject({ id: topUpId, status: 'PENDING', failureReason: null });

    const topUp = await eventually(async () => {
      const [found] = await purchasesOf(fixture.ownerToken, ['AUTO_TOP_UP']);
      return found.status !== 'PENDING' && found;
    }, 60_000);
    expect(topUp).toMatchObject({ id: topUpId, status: 'SUCCEEDED', amount: '10', failureReason: null });
    const [intent] = intentsOf(topUpId);
    await delivered('payment_intent.succeeded', intent.id);
    expect(intentsOf(topUpId)).toHaveLength(1);
    expect(await purchasesOf(fixture.ownerToken, ['AUTO_TOP_UP'])).toHaveLength(1);
    const wallet = await walletOf(fixture.walletId, fixture.ownerToken);
    expect(wallet.transactions.nodes.filter((row) => row.type === 'AUTO_TOP_UP')).toEqual([{ type: 'AUTO_TOP_UP', amount: '10' }]);
    expect(wallet).toMatchObject({ balance: '10.45', autoTopUp: { enabled: true, disabledReason: null } });
    const [{ failures }] = await app.orm.em.fork().execute('select auto_top_up_failures as failures from wallets where id = ?', [fixture.walletId]);
    expect(failures).toBe(0);
  }, 120_000);
});

describe('refunds', () => {
  it('of an auto top-up take its credits back, once however often Stripe reports them', async () => {
    const fixture = await gatewaySetup(app, '1');
    await saveCard(app, payments, fixture.ownerToken, 'pm_card_visa');
    await withAutoTopUp(fixture, '0.5', '10');
    expect((await debit(app, fixture, BIG_DEBIT)).allowed).toBe(true);
    const topUp = await eventually(async () => {
      const [found] = await purchasesOf(fixture.ownerToken, ['AUTO_TOP_UP']);
      return found?.status === 'SUCCEEDED' && found;
    });
    // Funded meanwhile, so that the refund leaves the wallet above its threshold: no top-up follows.
    await fund(app, fixture.walletId, '5');
    const [intent] = intentsOf(topUp.id);

    await stripe.refunds.create({ payment_intent: intent.id, amount: 400 });
    await delivered('charge.refunded', intent.latest_charge);
    await stripe.refunds.create({ payment_intent: intent.id });
    await delivered('charge.refunded', intent.latest_charge, 2);
    // Stripe reports the whole refund again (another event about the same charge): nothing more.
    expect(await sendWebhook(app, 'charge.refunded', { id: intent.latest_charge, object: 'charge', payment_intent: intent.id, amount: 1000, amount_refunded: 1000 })).toBe(200);

    const wallet = await walletOf(fixture.walletId, fixture.ownerToken);
    expect(wallet.transactions.nodes.filter((row) => row.type === 'REFUND' || row.type === 'AUTO_TOP_UP')).toEqual([
      { type: 'REFUND', amount: '-6' },
      { type: 'REFUND', amount: '-4' },
      { type: 'AUTO_TOP_UP', amount: '10' },
    ]);
    expect(wallet.balance).toBe('5.45');
    expect(await purchasesOf(fixture.ownerToken, ['AUTO_TOP_UP'])).toEqual([expect.objectContaining({ id: topUp.id, status: 'SUCCEEDED', refunded: '10' })]);
    const state = await walletState(app, fixture.walletId);
    expect(state.sum).toBe(state.balance);
  });

  it('whose webhook comes before the payment is known: the purchase is credited first, then the refund taken back, each once', async () => {
    const org = await organizationWithWorkspace(app);
    await saveCard(app, payments, org.ownerToken, 'pm_card_visa');
    let charged!: Record<string, any>;
    // Refunded in Stripe while tollgate still waits for the answer of the payment: the refund's
    // event is the first tollgate hears of it (the payment's own event follows the answer).
    payments.beforeIntentAnswer = async (intent) => {
      payments.beforeIntentAnswer = null;
      charged = intent;
      await stripe.refunds.create({ payment_intent: intent.id, amount: 2000 });
      await delivered('charge.refunded', intent.latest_charge);
    };
    const { purchaseCreate } = await app.data(PURCHASE, { input: { workspaceId: org.workspaceId, amount: '50', idempotencyKey: unique('early refund') } }, org.ownerToken);
    expect(purchaseCreate.userErrors).toEqual([]);
    expect(purchaseCreate.purchase).toMatchObject({ status: 'SUCCEEDED', refunded: '20' });
    await delivered('payment_intent.succeeded', charged.id);

    const wallet = await walletOf(org.walletId, org.ownerToken);
    // $20 of $50 back, and the same share of its $5 bonus.
    expect(wallet.transactions.nodes).toEqual([
      { type: 'REFUND', amount: '-22' },
      { type: 'BONUS', amount: '5' },
      { type: 'PURCHASE', amount: '50' },
    ]);
    expect(wallet.balance).toBe('33');
    expect(await purchasesOf(org.ownerToken)).toEqual([expect.objectContaining({ status: 'SUCCEEDED', refunded: '20' })]);
  });
});

describe('payment_method.detached', () => {
  it('for the default card: it goes, the other card becomes the default here and in Stripe, and is charged; the last one turns auto top-up off', async () => {
    const fixture = await gatewaySetup(app, '1');
    const visa = await saveCard(app, payments, fixture.ownerToken, 'pm_card_visa');
    const mastercard = await saveCard(app, payments, fixture.ownerToken, 'pm_card_mastercard');
    await withAutoTopUp(fixture, '0.5', '10');
    const customer = [...payments.customers.values()].find((candidate) => candidate.metadata.organization_id === fixture.organizationId)!;
    expect(customer.invoice_settings.default_payment_method).toBe(visa);
    const cards = async () => (await app.data(CARDS, {}, fixture.ownerToken)).organization.paymentMethods as Array<{ id: string; isDefault: boolean }>;

    // Removed in Stripe's dashboard: Stripe's customer has no default card then, until tollgate names one.
    await stripe.paymentMethods.detach(visa);
    await delivered('payment_method.detached', visa);
    expect(await cards()).toEqual([{ id: mastercard, isDefault: true }]);
    expect(customer.invoice_settings.default_payment_method).toBe(mastercard);
    const { purchaseCreate } = await app.data(PURCHASE, { input: { workspaceId: fixture.workspaceId, amount: '5', idempotencyKey: unique('after detach') } }, fixture.ownerToken);
    expect(purchaseCreate.purchase.status).toBe('SUCCEEDED');
    expect(intentsOf(purchaseCreate.purchase.id).map((intent) => intent.payment_method)).toEqual([mastercard]);
    expect((await walletOf(fixture.walletId, fixture.ownerToken)).autoTopUp.enabled).toBe(true);

    await stripe.paymentMethods.detach(mastercard);
    await delivered('payment_method.detached', mastercard);
    expect(await cards()).toEqual([]);
    expect((await walletOf(fixture.walletId, fixture.ownerToken)).autoTopUp).toEqual({ enabled: false, disabledReason: expect.stringMatching(/last saved card was removed/) });
  });
});
