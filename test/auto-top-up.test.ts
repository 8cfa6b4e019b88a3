import { type PaymentsServer, startPaymentsServer } from '../src/dev/payments-server';
import { TOP_UP_RETRY_AFTER_SECONDS } from '../src/gateway/contract';
import { createStripe } from '../src/payments/stripe';
import { TOPICS } from '../src/realtime/pubsub';
import { startTestApp, subscriptionClient, type TestApp } from './support/app';
import { createMemberWithToken, createWorkspace, eventually, TRANSFER, unique } from './support/fixtures';
import { debit, debitAtOnce, type GatewayFixture, gatewaySetup, postDebit, walletState } from './support/gateway';
import { paymentsOptions, saveCard, sendWebhook, WEBHOOK_SECRET } from './support/payments';
import { subscriptionsListening, untilListening } from './support/metrics';
import { spawnServer } from './support/process';

/** Three top-ups of $5 from $1 leave $16. */
const DAILY_LIMIT = 3;
const RETRY_DELAY_SECONDS = 1;

let stripe: PaymentsServer;
let app: TestApp;

beforeAll(async () => {
  stripe = await startPaymentsServer();
  app = await startTestApp({
    ...paymentsOptions(stripe),
    jobs: { timeoutSeconds: 2, pollingSeconds: 0.5 },
    autoTopUp: { dailyLimit: DAILY_LIMIT, retryDelaySeconds: RETRY_DELAY_SECONDS, bonus: false },
  });
});

afterAll(async () => {
  await app?.close();
  await stripe?.close();
});

const AUTO_TOP_UP = `mutation ($input: AutoTopUpUpdateInput!) { autoTopUpUpdate(input: $input) { userErrors { code message } } }`;
const WALLET = `query ($id: ID!) {
  node(id: $id) { ... on Wallet {
    balance
    autoTopUp { enabled disabledReason }
    transactions(first: 10, filter: { types: [MANUAL, AUTO_TOP_UP, BONUS] }) { nodes { type amount } }
  } }
}`;
const TOP_UPS = `{ organization { purchases(kinds: [AUTO_TOP_UP]) { nodes { id amount bonus status failureReason invoicePdf wallet { id } } } } }`;
const ALERTS = `query ($acknowledged: Boolean) { organization { alerts(acknowledged: $acknowledged) { nodes { id kind message acknowledgedAt wallet { id } } } } }`;

interface TopUp {
  id: string;
  amount: string;
  bonus: string;
  status: string;
  failureReason: string | null;
  invoicePdf: string | null;
}

/** A wallet holding `funds` with a key for the gateway, a saved card and auto top-up on. */
async function walletWithAutoTopUp(funds: string | null, threshold: string, amount: string, card: string) {
  const fixture = await gatewaySetup(app, funds);
  const cardId = await saveCard(app, stripe, fixture.ownerToken, card);
  const { autoTopUpUpdate } = await app.data(AUTO_TOP_UP, { input: { walletId: fixture.walletId, enabled: true, threshold, amount } }, fixture.ownerToken);
  expect(autoTopUpUpdate.userErrors).toEqual([]);
  return { ...fixture, cardId };
}

async function topUpsOf(fixture: GatewayFixture): Promise<TopUp[]> {
  return (await app.data(TOP_UPS, {}, fixture.ownerToken)).organization.purchases.nodes;
}

async function walletOf(fixture: GatewayFixture) {
  return (await app.data(WALLET, { id: fixture.walletId }, fixture.ownerToken)).node as {
    balance: string;
    autoTopUp: { enabled: boolean; disabledReason: string | null };
    transactions: { nodes: Array<{ type: string; amount: string }> };
  };
}

async function alertsOf(fixture: GatewayFixture, acknowledged: boolean | null = null) {
  return (await app.data(ALERTS, { acknowledged }, fixture.ownerToken)).organization.alerts.nodes as Array<{
    id: string;
    kind: string;
    message: string;
    acknowledgedAt: string | null;
    wallet: { id: string };
  }>;
}

const settled = (fixture: GatewayFixture, count = 1) =>
  eventually(async () => {
    const topUps = await topUpsOf(fixture);
    return topUps.length === count && topUps.every((topUp) => topUp.status === 'SUCCEEDED' || topUp.status === 'FAILED') && topUps;
  });

/** The PaymentIntent requests Stripe received for one purchase, in order. */
const intentRequestsOf = (purchaseId: string) =>
  stripe.requests.filter((request) => request.method === 'POST' && request.path === '/v1/payment_intents' && request.body.metadata?.purchase_id === purchaseId);

/** Collects a wallet's auto top-up events from the moment the subscription is registered. */
async function watchTopUps(fixture: GatewayFixture) {
  const client = subscriptionClient(app, fixture.ownerToken);
  const listening = await subscriptionsListening(app.server.url, TOPICS.autoTopUp);
  const events: Array<{ kind: string; attempt: number; reason: string | null }> = [];
  client.subscribe(
    { query: 'subscription ($walletId: ID!) { autoTopUpEvent(walletId: $walletId) { kind attempt reason } }', variables: { walletId: fixture.walletId } },
    { next: (value) => events.push((value.data as { autoTopUpEvent: (typeof events)[number] }).autoTopUpEvent), error: () => undefined, complete: () => undefined },
  );
  await untilListening(app.server.url, TOPICS.autoTopUp, listening + 1);
  return { events, close: () => client.dispose() };
}

/** A debit large enough to take $1 below $0.50: 500,000 input tokens cost $0.55. */
const BIG_DEBIT = { inputTokens: 500_000 };
/** 20,000,000 input tokens cost $22; 30,000,000 cost $33. */
const DEBIT_OF_22 = { inputTokens: 20_000_000 };
const DEBIT_OF_33 = { inputTokens: 30_000_000 };

/** What a refusal for lack of credits answers while a top-up of the wallet is under way. */
const TOP_UP_UNDER_WAY = { code: 'INSUFFICIENT_CREDITS', httpStatus: 402, message: 'Insufficient credits. Please top up your account.', retryAfterSeconds: TOP_UP_RETRY_AFTER_SECONDS };

describe('auto top-up', () => {
  it('starts exactly one top-up when 500 concurrent debits cross the threshold, and credits it once', async () => {
    const fixture = await walletWithAutoTopUp('1', '0.5', '50', 'pm_card_visa');
    const watch = await watchTopUps(fixture);
    const { allowed } = await debitAtOnce([app.server.url], fixture, 500);
    expect(allowed).toBe(500);

    const [topUp] = await settled(fixture);
    expect(await eventually(async () => watch.events.length >= 2 && watch.events)).toEqual([
      { kind: 'STARTED', attempt: 1, reason: null },
      { kind: 'SUCCEEDED', attempt: 1, reason: null },
    ]);
    await watch.close();
    // Bonus tiers apply to auto top-ups only where the deployment turns them on (not here).
    expect(topUp).toMatchObject({ amount: '50', bonus: '0', status: 'SUCCEEDED', failureReason: null });
    // The invoice follows the payment.
    expect(await eventually(async () => (await topUpsOf(fixture))[0].invoicePdf)).toMatch(/\/invoices\/in_\w+$/);
    const requests = intentRequestsOf(topUp.id);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ idempotencyKey: `tollgate-auto-top-up-${topUp.id}-1`, body: { off_session: 'true', amount: '5000', confirm: 'true' } });

    const wallet = await walletOf(fixture);
    expect(wallet.transactions.nodes).toEqual([
      { type: 'AUTO_TOP_UP', amount: '50' },
      { type: 'MANUAL', amount: '1' },
    ]);
    expect(wallet.balance).toBe('50.45');
    const state = await walletState(app, fixture.walletId);
    expect(state.sum).toBe(state.balance);
  });

  it('lets one of 500 concurrent starts through, and none while a top-up is in flight (the guard holds across processes)', async () => {
    // Above its threshold: turning it on starts nothing.
    const fixture = await walletWithAutoTopUp('1', '0.5', '10', 'pm_card_visa');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    stripe.beforeIntentAnswer = () => held;
    let started: Array<string | null>;
    let whileInFlight: Array<string | null>;
    try {
      // The threshold raised above the balance: the update's own start races 500 others.
      const raised = app.data(AUTO_TOP_UP, { input: { walletId: fixture.walletId, enabled: true, threshold: '5' } }, fixture.ownerToken);
      started = await Promise.all(Array.from({ length: 500 }, () => app.server.workers.autoTopUps!.startTopUp(fixture.walletId)));
      expect((await raised).autoTopUpUpdate.userErrors).toEqual([]);
      await app.server.workers.autoTopUps!.drain();
      expect(await topUpsOf(fixture)).toEqual([expect.objectContaining({ status: 'PENDING' })]);
      whileInFlight = await Promise.all(Array.from({ length: 500 }, () => app.server.workers.autoTopUps!.startTopUp(fixture.walletId)));
    } finally {
      release();
      stripe.beforeIntentAnswer = null;
    }
    const winners = started.filter(Boolean);
    expect(winners.length).toBeLessThanOrEqual(1);
    expect(whileInFlight.filter(Boolean)).toEqual([]);
    const [topUp] = await settled(fixture);
    expect(topUp.status).toBe('SUCCEEDED');
    if (winners.length > 0) expect(topUp.id).toBe(winners[0]);
    expect(intentRequestsOf(topUp.id)).toHaveLength(1);
    expect((await walletOf(fixture)).balance).toBe('11');
  });

  it('turns itself off after three declines in a row, with backoff between them, and raises an alert', async () => {
    const fixture = await walletWithAutoTopUp('1', '0.5', '10', 'pm_card_chargeDeclined');
    const watch = await watchTopUps(fixture);
    expect((await debit(app, fixture, BIG_DEBIT)).allowed).toBe(true);

    const wallet = await eventually(async () => {
      const found = await walletOf(fixture);
      return !found.autoTopUp.enabled && found;
    });
    const disabledReason = 'Auto top-up was turned off after 3 declined payments in a row. The last: Your card was declined.';
    expect(wallet.autoTopUp.disabledReason).toBe(disabledReason);
    const declined = 'Your card was declined.';
    expect(await eventually(async () => watch.events.length >= 5 && watch.events)).toEqual([
      { kind: 'STARTED', attempt: 1, reason: null },
      { kind: 'FAILED', attempt: 1, reason: declined },
      { kind: 'FAILED', attempt: 2, reason: declined },
      { kind: 'FAILED', attempt: 3, reason: declined },
      { kind: 'DISABLED', attempt: 3, reason: disabledReason },
    ]);
    await watch.close();
    expect(wallet.balance).toBe('0.45');
    expect(wallet.transactions.nodes).toEqual([{ type: 'MANUAL', amount: '1' }]);

    const [topUp] = await topUpsOf(fixture);
    expect(topUp).toMatchObject({ status: 'FAILED', failureReason: 'Your card was declined.' });
    const attempts = intentRequestsOf(topUp.id);
    expect(attempts.map((request) => request.idempotencyKey)).toEqual([1, 2, 3].map((n) => `tollgate-auto-top-up-${topUp.id}-${n}`));
    // The second try waits the retry delay, the third twice as long.
    expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(RETRY_DELAY_SECONDS * 1000);
    expect(attempts[2].at - attempts[1].at).toBeGreaterThanOrEqual(2 * RETRY_DELAY_SECONDS * 1000);

    const [alert] = await alertsOf(fixture, false);
    expect(alert).toMatchObject({ kind: 'AUTO_TOP_UP_DISABLED', message: wallet.autoTopUp.disabledReason, acknowledgedAt: null, wallet: { id: fixture.walletId } });

    // Off means off: a debit below the threshold goes through, and the start rule itself (what a
    // debit's report of the wallet runs) starts nothing.
    expect((await debit(app, fixture)).allowed).toBe(true);
    expect(await app.server.workers.autoTopUps!.startTopUp(fixture.walletId)).toBeNull();
    await app.server.workers.autoTopUps!.drain();
    expect(await topUpsOf(fixture)).toHaveLength(1);

    // A viewer sees the alert but may not acknowledge it; a member acknowledges it once.
    const viewer = await createMemberWithToken(app, fixture.ownerToken, 'VIEWER');
    const ACKNOWLEDGE = `mutation ($input: AlertAcknowledgeInput!) { alertAcknowledge(input: $input) { alert { id acknowledgedAt } userErrors { code } } }`;
    expect((await app.gql(ACKNOWLEDGE, { input: { alertId: alert.id } }, viewer.token)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const { alertAcknowledge } = await app.data(ACKNOWLEDGE, { input: { alertId: alert.id } }, fixture.ownerToken);
    expect(alertAcknowledge.alert.acknowledgedAt).not.toBeNull();
    expect(await alertsOf(fixture, false)).toEqual([]);
    expect(await alertsOf(fixture, true)).toHaveLength(1);

    // Turned on again (the card now accepted), it starts from zero failures and, the balance
    // being below the threshold, tops up at once.
    stripe.paymentMethods.get(fixture.cardId)!.test_card = 'pm_card_visa';
    await app.data(AUTO_TOP_UP, { input: { walletId: fixture.walletId, enabled: true } }, fixture.ownerToken);
    expect((await walletOf(fixture)).autoTopUp).toEqual({ enabled: true, disabledReason: null });
    expect((await settled(fixture, 2))[0]).toMatchObject({ amount: '10', status: 'SUCCEEDED', failureReason: null });
    expect((await walletOf(fixture)).balance).toBe('10.4489');
  });

  it('tries a declined top-up again, and a success starts the count of failures over', async () => {
    const fixture = await walletWithAutoTopUp('1', '0.5', '10', 'pm_card_chargeDeclined');
    expect((await debit(app, fixture, BIG_DEBIT)).allowed).toBe(true);
    const [pending] = await eventually(async () => {
      const topUps = await topUpsOf(fixture);
      return topUps[0]?.failureReason ? topUps : null;
    });
    expect(pending).toMatchObject({ status: 'PENDING', failureReason: 'Your card was declined.' });
    // Declined, it waits for its next attempt: a refused debit is not told to retry soon.
    expect((await debit(app, fixture, DEBIT_OF_22)).denial).toMatchObject({ code: 'INSUFFICIENT_CREDITS', retryAfterSeconds: null });
    // Stripe's webhook about the declined attempt does not end the top-up: the job retries it.
    const declined = [...stripe.paymentIntents.values()].find((intent) => intent.metadata.purchase_id === pending.id)!;
    expect(await sendWebhook(app, 'payment_intent.payment_failed', declined)).toBe(200);
    expect((await topUpsOf(fixture))[0].status).toBe('PENDING');
    // The card holder's bank now accepts the card: the retry goes through.
    stripe.paymentMethods.get(fixture.cardId)!.test_card = 'pm_card_visa';

    const [topUp] = await settled(fixture);
    expect(topUp).toMatchObject({ status: 'SUCCEEDED', failureReason: null });
    expect(intentRequestsOf(topUp.id).length).toBeGreaterThanOrEqual(2);
    const [row] = await app.orm.em.fork().execute('select auto_top_up_failures from wallets where id = ?', [fixture.walletId]);
    expect(row.auto_top_up_failures).toBe(0);
    expect((await walletOf(fixture)).balance).toBe('10.45');
  });

  it(`stops at ${DAILY_LIMIT} top-ups per wallet in 24 hours and says so once`, async () => {
    // Turned on below the threshold: the first top-up starts at once.
    const fixture = await walletWithAutoTopUp('1', '100', '5', 'pm_card_visa');
    await settled(fixture, 1);
    for (let n = 2; n <= DAILY_LIMIT; n += 1) {
      expect(await app.server.workers.autoTopUps!.startTopUp(fixture.walletId)).not.toBeNull();
      await settled(fixture, n);
    }
    expect(await app.server.workers.autoTopUps!.startTopUp(fixture.walletId)).toBeNull();
    expect(await app.server.workers.autoTopUps!.startTopUp(fixture.walletId)).toBeNull();
    // A debit refused for lack of credits starts none either, and promises none.
    const refused = await debit(app, fixture, DEBIT_OF_22);
    expect(refused.denial).toMatchObject({ code: 'INSUFFICIENT_CREDITS', retryAfterSeconds: null });
    await app.server.workers.autoTopUps!.drain();
    expect(await topUpsOf(fixture)).toHaveLength(DAILY_LIMIT);
    const alerts = await alertsOf(fixture);
    expect(alerts.filter((alert) => alert.kind === 'AUTO_TOP_UP_DAILY_LIMIT')).toHaveLength(1);
    expect(alerts[0].message).toContain(`limit of ${DAILY_LIMIT} top-ups in 24 hours`);
    expect((await walletOf(fixture)).balance).toBe('16');
  });

  it('adds the bonus tiers to auto top-ups where the deployment turns that on', async () => {
    const fixture = await walletWithAutoTopUp('1', '0.5', '100', 'pm_card_visa');
    const withBonus = await startTestApp({
      stripe: createStripe({ STRIPE_SECRET_KEY: stripe.secretKey, STRIPE_API_BASE: stripe.url }),
      jobs: { timeoutSeconds: 2, pollingSeconds: 0.5 },
      autoTopUp: { dailyLimit: DAILY_LIMIT, retryDelaySeconds: RETRY_DELAY_SECONDS, bonus: true },
    });
    try {
      // The threshold raised above the balance on the server that gives bonuses: it starts the top-up.
      const { autoTopUpUpdate } = await withBonus.data(AUTO_TOP_UP, { input: { walletId: fixture.walletId, enabled: true, threshold: '5' } }, fixture.ownerToken);
      expect(autoTopUpUpdate.userErrors).toEqual([]);
      const [topUp] = await settled(fixture);
      expect(topUp).toMatchObject({ amount: '100', bonus: '15', status: 'SUCCEEDED' });
    } finally {
      await withBonus.close();
    }
    const wallet = await walletOf(fixture);
    expect(wallet.transactions.nodes.slice(0, 2)).toEqual([
      { type: 'BONUS', amount: '15' },
      { type: 'AUTO_TOP_UP', amount: '100' },
    ]);
    expect(wallet.balance).toBe('116');
  });

  it('resumes a top-up whose server died in the middle of the payment, and credits it once', async () => {
    const fixture = await walletWithAutoTopUp('1', '0.5', '10', 'pm_card_visa');
    // Only the other process works on jobs until it is killed.
    await app.server.workers.autoTopUps!.stop();
    const other = await spawnServer({
      STRIPE_SECRET_KEY: stripe.secretKey,
      STRIPE_API_BASE: stripe.url,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      TOLLGATE_JOB_TIMEOUT_SECONDS: '2',
    });
    let reached!: () => void;
    const paymentReached = new Promise<void>((resolve) => (reached = resolve));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    stripe.beforeIntentAnswer = () => {
      reached();
      return held;
    };
    try {
      expect((await debitAtOnce([other.url], fixture, 1, BIG_DEBIT)).allowed).toBe(1);
      await paymentReached;
      // Stripe has the payment; the server that asked for it dies before hearing back.
      const exited = new Promise((resolve) => other.process.once('exit', resolve));
      other.process.kill('SIGKILL');
      await exited;
    } finally {
      release();
      stripe.beforeIntentAnswer = null;
    }
    const [pending] = await topUpsOf(fixture);
    expect(pending.status).toBe('PENDING');

    await app.server.workers.autoTopUps!.start();
    const [topUp] = await settled(fixture);
    expect(topUp).toMatchObject({ id: pending.id, status: 'SUCCEEDED' });
    // Asked twice under the same idempotency key: one payment.
    const requests = intentRequestsOf(topUp.id);
    expect(requests.length).toBe(1);
    expect([...stripe.paymentIntents.values()].filter((intent) => intent.metadata.purchase_id === topUp.id)).toHaveLength(1);
    const wallet = await walletOf(fixture);
    expect(wallet.transactions.nodes.filter((row) => row.type === 'AUTO_TOP_UP')).toEqual([{ type: 'AUTO_TOP_UP', amount: '10' }]);
    expect(wallet.balance).toBe('10.45');
  }, 60_000);
});

const PURCHASE = `mutation ($input: PurchaseCreateInput!) { purchaseCreate(input: $input) { purchase { id status } userErrors { code message } } }`;

describe('auto top-up below the threshold', () => {
  it('starts at once when turned on below the threshold', async () => {
    const fixture = await walletWithAutoTopUp(null, '5', '10', 'pm_card_visa');
    const [topUp] = await settled(fixture);
    expect(topUp).toMatchObject({ amount: '10', status: 'SUCCEEDED' });
    expect((await walletOf(fixture)).balance).toBe('10');
  });

  it('starts one when a debit is refused for lack of credits, and tells the gateway when to try again', async () => {
    // $40 less $22 is $18, below $30: a top-up of $5 leaves $23, still below, and none in flight.
    const fixture = await walletWithAutoTopUp('40', '30', '5', 'pm_card_visa');
    expect((await debit(app, fixture, DEBIT_OF_22)).allowed).toBe(true);
    await settled(fixture, 1);
    expect((await walletOf(fixture)).balance).toBe('23');

    const refused = await debit(app, fixture, DEBIT_OF_33);
    expect(refused).toMatchObject({ allowed: false, denial: TOP_UP_UNDER_WAY });
    const topUps = await settled(fixture, 2);
    expect(topUps.map((topUp) => topUp.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect((await walletOf(fixture)).balance).toBe('28');
  });

  it('starts one when a refund leaves the balance below the threshold', async () => {
    const fixture = await gatewaySetup(app, null);
    await saveCard(app, stripe, fixture.ownerToken, 'pm_card_visa');
    const { purchaseCreate } = await app.data(PURCHASE, { input: { workspaceId: fixture.workspaceId, amount: '20', idempotencyKey: unique('buy') } }, fixture.ownerToken);
    expect(purchaseCreate.purchase.status).toBe('SUCCEEDED');
    const { autoTopUpUpdate } = await app.data(AUTO_TOP_UP, { input: { walletId: fixture.walletId, enabled: true, threshold: '5', amount: '10' } }, fixture.ownerToken);
    expect(autoTopUpUpdate.userErrors).toEqual([]);
    expect(await topUpsOf(fixture)).toEqual([]);

    // The whole purchase refunded in Stripe, and Stripe's webhook saying so.
    const intent = [...stripe.paymentIntents.values()].find((candidate) => candidate.metadata.purchase_id === purchaseCreate.purchase.id)!;
    const refund = await createStripe({ STRIPE_SECRET_KEY: stripe.secretKey, STRIPE_API_BASE: stripe.url })!.refunds.create({ payment_intent: intent.id });
    const charge = { id: refund.charge, object: 'charge', payment_intent: intent.id, amount: 2000, amount_refunded: refund.amount };
    expect(await sendWebhook(app, 'charge.refunded', charge)).toBe(200);

    const [topUp] = await settled(fixture);
    expect(topUp).toMatchObject({ amount: '10', status: 'SUCCEEDED' });
    expect((await walletOf(fixture)).balance).toBe('10');
  });

  it('starts one when a transfer leaves the balance below the threshold', async () => {
    const fixture = await walletWithAutoTopUp('20', '5', '10', 'pm_card_visa');
    const other = await createWorkspace(app, fixture.ownerToken);
    const { walletTransfer } = await app.data(
      TRANSFER,
      { input: { fromWalletId: fixture.walletId, toWalletId: other.walletId, amount: '18', idempotencyKey: unique('move') } },
      fixture.ownerToken,
    );
    expect(walletTransfer.userErrors).toEqual([]);
    const [topUp] = await settled(fixture);
    expect(topUp).toMatchObject({ amount: '10', status: 'SUCCEEDED' });
    expect((await walletOf(fixture)).balance).toBe('12');
  });

  it('tops up a wallet that cannot pay after its refused debits, once, however many are refused at once on two processes', async () => {
    // Turned on at zero: a top-up of $5 leaves $5, below the $10 threshold, and none in flight.
    const fixture = await walletWithAutoTopUp(null, '10', '5', 'pm_card_visa');
    const [first] = await settled(fixture, 1);
    const other = await spawnServer({
      STRIPE_SECRET_KEY: stripe.secretKey,
      STRIPE_API_BASE: stripe.url,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      TOLLGATE_AUTO_TOP_UP_DAILY_LIMIT: String(DAILY_LIMIT),
    });
    try {
      // The next top-up's payment waits at Stripe until every debit is answered.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      stripe.beforeIntentAnswer = () => held;
      try {
        // $6.60 each (6,000,000 input tokens): none fits in $5.
        const answers = await Promise.all(
          Array.from({ length: 200 }, (_, i) => postDebit([app.server.url, other.url][i % 2], fixture, { inputTokens: 6_000_000 })),
        );
        expect(answers.map((answer) => answer.errors ?? answer.data!.gatewayDebit.denial)).toEqual(Array.from({ length: 200 }, () => TOP_UP_UNDER_WAY));
      } finally {
        release();
        stripe.beforeIntentAnswer = null;
      }
      const topUps = await settled(fixture, 2);
      const second = topUps.find((topUp) => topUp.id !== first.id)!;
      expect(second).toMatchObject({ amount: '5', status: 'SUCCEEDED' });
      expect(intentRequestsOf(second.id)).toHaveLength(1);
    } finally {
      const exited = new Promise((resolve) => other.process.once('exit', resolve));
      other.process.kill();
      await exited;
    }
    expect((await walletOf(fixture)).balance).toBe('10');
    const state = await walletState(app, fixture.walletId);
    expect(state.sum).toBe(state.balance);
  }, 60_000);
});

describe('the spend projection with auto top-up on', () => {
  it('counts at most the daily limit of top-ups a day against the spend', async () => {
    // Three top-ups of $5 a day can add $15 a day: $105 a week, $450 a month.
    const fixture = await walletWithAutoTopUp('200', '1', '5', 'pm_card_visa');
    expect((await debit(app, fixture, { inputTokens: 100_000_000 })).allowed).toBe(true);
    const { node } = await app.data(
      `query ($id: ID!) { node(id: $id) { ... on Wallet { spendProjection {
         last7Days { spend depletesAt coveredByAutoTopUp } last30Days { spend depletesAt coveredByAutoTopUp } } } } }`,
      { id: fixture.walletId },
      fixture.ownerToken,
    );
    const { last7Days, last30Days } = node.spendProjection;
    // $110 spent this week against $105 of top-ups: $5 a week drains the $90 left in 126 days.
    expect(last7Days).toMatchObject({ spend: '110', coveredByAutoTopUp: false });
    const days = (Date.parse(last7Days.depletesAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(125.9);
    expect(days).toBeLessThanOrEqual(126);
    expect(last30Days).toEqual({ spend: '110', depletesAt: null, coveredByAutoTopUp: true });
    expect(await topUpsOf(fixture)).toEqual([]);
  });
});

