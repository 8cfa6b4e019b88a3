import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import Redis from 'ioredis';
import { createLogger } from '../src/logger';
import { createRedisEventBus, TOPICS } from '../src/realtime/pubsub';
import { ADMIN_TOKEN, startTestApp, subscriptionClient, type TestApp } from './support/app';
import { ADJUST, codes, createMemberWithToken, createOrganization, createWorkspace, expectNoUserErrors, fund } from './support/fixtures';
import { debit, debitAtOnce, type GatewayFixture, gatewaySetup, requestKey } from './support/gateway';
import { type ServerProcess, spawnServer } from './support/process';
import { startWebhookReceiver } from './support/webhook-receiver';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

// Subscriptions here go through Redis, as between replicas: a second server process (`other`)
// shares the database and Redis with `app`.
const app = {} as TestApp;
let other: ServerProcess;
let redis: Redis;

beforeAll(async () => {
  Object.assign(
    app,
    await startTestApp({
      bus: await createRedisEventBus(REDIS_URL, createLogger('silent')),
      jobs: { timeoutSeconds: 30, pollingSeconds: 0.5, alertRelayMs: 100 },
    }),
  );
  other = await spawnServer({ REDIS_URL });
  redis = new Redis(REDIS_URL);
}, 60_000);

afterAll(async () => {
  const exited = once(other.process, 'exit');
  other.process.kill('SIGTERM');
  await exited;
  redis.disconnect();
  await app.close();
  await app.server.bus.close();
});

const SET = `mutation ($input: LowBalanceThresholdSetInput!) {
  lowBalanceThresholdSet(input: $input) { threshold { id amount armed recipients { id } wallet { id } } userErrors { code field message } }
}`;
const REMOVE = `mutation ($input: LowBalanceThresholdRemoveInput!) {
  lowBalanceThresholdRemove(input: $input) { removedId userErrors { code field message } }
}`;
const THRESHOLDS = 'query ($id: ID!) { node(id: $id) { ... on Wallet { lowBalanceThresholds { id amount armed recipients { id } } } } }';
const ALERT_FIELDS = 'id kind message threshold balance acknowledgedAt wallet { id } lowBalanceThreshold { id amount } recipients { id }';
const ALERTS = `query { organization { alerts(first: 100) { nodes { ${ALERT_FIELDS} } } } }`;
const LOW_BALANCE_ALERT = `subscription ($organizationId: ID!) { lowBalanceAlert(organizationId: $organizationId) { ${ALERT_FIELDS} } }`;

interface AlertView {
  id: string;
  kind: string;
  message: string;
  threshold: string | null;
  balance: string | null;
  acknowledgedAt: string | null;
  wallet: { id: string } | null;
  lowBalanceThreshold: { id: string; amount: string } | null;
  recipients: Array<{ id: string }>;
}

async function setThreshold(fixture: Pick<GatewayFixture, 'walletId' | 'ownerToken'>, amount: string, recipientMemberIds?: string[]) {
  const { lowBalanceThresholdSet } = await app.data(SET, { input: { walletId: fixture.walletId, amount, recipientMemberIds } }, fixture.ownerToken);
  expectNoUserErrors(lowBalanceThresholdSet);
  return lowBalanceThresholdSet.threshold as { id: string; amount: string; armed: boolean; recipients: Array<{ id: string }> };
}

async function thresholdsOf(fixture: Pick<GatewayFixture, 'walletId' | 'ownerToken'>) {
  return (await app.data(THRESHOLDS, { id: fixture.walletId }, fixture.ownerToken)).node.lowBalanceThresholds as Array<{ amount: string; armed: boolean }>;
}

async function lowBalanceAlertsOf(token: string): Promise<AlertView[]> {
  const nodes = (await app.data(ALERTS, {}, token)).organization.alerts.nodes as AlertView[];
  return nodes.filter((alert) => alert.kind === 'LOW_BALANCE');
}

/**
 * Subscribes `token` to its organization's low-balance alerts and resolves once the server
 * listens on Redis, so that no alert raised afterwards can be missed.
 */
async function watchAlerts(server: TestApp, token: string, organizationId: string) {
  const client = subscriptionClient(server, token);
  const received: AlertView[] = [];
  const waiting: Array<() => void> = [];
  const events = client.iterate<{ lowBalanceAlert: AlertView }>({ query: LOW_BALANCE_ALERT, variables: { organizationId } });
  const errors: unknown[] = [];
  const reading = (async () => {
    for await (const event of events) {
      if (event.errors) errors.push(...event.errors);
      else received.push(event.data!.lowBalanceAlert);
      waiting.splice(0).forEach((wake) => wake());
    }
  })().catch((error) => errors.push(error));
  const channel = `tollgate:${TOPICS.lowBalanceAlert}:${organizationId}`;
  for (let tries = 0; ; tries += 1) {
    const [, listeners] = (await redis.pubsub('NUMSUB', channel)) as [string, number];
    if (listeners > 0 || errors.length > 0) break;
    if (tries > 200) throw new Error('the subscription did not start');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return {
    received,
    errors,
    /** Resolves once `count` alerts have arrived (fails after `ms`). */
    async until(count: number, ms = 5000) {
      const deadline = Date.now() + ms;
      while (received.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`expected ${count} alerts, got ${received.length}: ${JSON.stringify(errors)}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiting.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return received;
    },
    async close() {
      await events.return?.();
      await client.dispose();
      await reading;
    },
  };
}

describe('lowBalanceThresholdSet / lowBalanceThresholdRemove', () => {
  it("sets several thresholds per wallet, each with its recipients, listed highest first; setting an amount again changes its recipients", async () => {
    const org = await createOrganization(app);
    const fixture = { ...org, ...(await createWorkspace(app, org.ownerToken)) };
    await fund(app, fixture.walletId, '100');
    const admin = await createMemberWithToken(app, org.ownerToken, 'ADMIN');

    const warning = await setThreshold(fixture, '20');
    expect(warning).toMatchObject({ amount: '20', armed: true, recipients: [{ id: org.ownerId }] });
    const urgent = await setThreshold(fixture, '5', [org.ownerId, admin.memberId]);
    expect(urgent.recipients.map((member) => member.id).sort()).toEqual([org.ownerId, admin.memberId].sort());

    const again = await setThreshold(fixture, '20', [admin.memberId]);
    expect(again).toMatchObject({ id: warning.id, recipients: [{ id: admin.memberId }] });
    expect(await thresholdsOf(fixture)).toEqual([
      { id: warning.id, amount: '20', armed: true, recipients: [{ id: admin.memberId }] },
      expect.objectContaining({ id: urgent.id, amount: '5' }),
    ]);

    const { lowBalanceThresholdRemove } = await app.data(REMOVE, { input: { lowBalanceThresholdId: urgent.id } }, org.ownerToken);
    expect(lowBalanceThresholdRemove).toEqual({ removedId: urgent.id, userErrors: [] });
    expect((await thresholdsOf(fixture)).map((threshold) => threshold.amount)).toEqual(['20']);
  });

  it('refuses bad input with a clear error and changes nothing', async () => {
    const org = await createOrganization(app);
    const fixture = { ...org, ...(await createWorkspace(app, org.ownerToken)) };
    const stranger = await createOrganization(app);
    const strangerWallet = await createWorkspace(app, stranger.ownerToken);
    const refusals: Array<[Record<string, unknown>, string, string[]]> = [
      [{ walletId: fixture.walletId, amount: '0' }, 'INVALID', ['input', 'amount']],
      [{ walletId: fixture.walletId, amount: '5', recipientMemberIds: [] }, 'INVALID', ['input', 'recipientMemberIds']],
      [{ walletId: fixture.walletId, amount: '5', recipientMemberIds: [stranger.ownerId] }, 'NOT_FOUND', ['input', 'recipientMemberIds']],
      [{ walletId: strangerWallet.walletId, amount: '5' }, 'NOT_FOUND', ['input', 'walletId']],
    ];
    for (const [input, code, field] of refusals) {
      const { lowBalanceThresholdSet } = await app.data(SET, { input }, org.ownerToken);
      expect(lowBalanceThresholdSet).toMatchObject({ threshold: null, userErrors: [{ code, field }] });
    }
    for (let i = 1; i <= 10; i += 1) await setThreshold(fixture, String(i));
    const { lowBalanceThresholdSet: eleventh } = await app.data(SET, { input: { walletId: fixture.walletId, amount: '11' } }, org.ownerToken);
    expect(eleventh.userErrors).toEqual([expect.objectContaining({ code: 'INVALID', message: 'A wallet has at most 10 low-balance thresholds' })]);
    expect(await thresholdsOf(fixture)).toHaveLength(10);
    expect(await thresholdsOf({ ...stranger, walletId: strangerWallet.walletId })).toEqual([]);

    const { lowBalanceThresholdRemove } = await app.data(REMOVE, { input: { lowBalanceThresholdId: 'lbt_0000000000000000000000' } }, org.ownerToken);
    expect(lowBalanceThresholdRemove.userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND', field: ['input', 'lowBalanceThresholdId'] })]);

    const member = await createMemberWithToken(app, org.ownerToken, 'MEMBER');
    const forbidden = await app.gql(SET, { input: { walletId: fixture.walletId, amount: '50' } }, member.token);
    expect(codes(forbidden)).toEqual(['FORBIDDEN']);
    expect(await thresholdsOf(fixture)).toHaveLength(10);
  });
});

describe('low-balance alerts', () => {
  it('fire once when the balance falls below, are stored and published to the recipients, and re-arm when it is back', async () => {
    const fixture = await gatewaySetup(app, '0.0050');
    const admin = await createMemberWithToken(app, fixture.ownerToken, 'ADMIN');
    const viewer = await createMemberWithToken(app, fixture.ownerToken, 'VIEWER');
    const threshold = await setThreshold(fixture, '0.003', [fixture.ownerId, viewer.memberId]);
    const ownerWatch = await watchAlerts(app, fixture.ownerToken, fixture.organizationId);
    const viewerWatch = await watchAlerts(app, viewer.token, fixture.organizationId);
    const adminWatch = await watchAlerts(app, admin.token, fixture.organizationId);
    try {
      // Each debit costs 0.0011: 0.0039 is above, 0.0028 below, 0.0017 still below.
      for (let i = 0; i < 3; i += 1) expect((await debit(app, fixture)).allowed).toBe(true);
      const [alert] = await ownerWatch.until(1);
      expect(alert).toEqual({
        id: expect.stringMatching(/^alr_[0-9A-Za-z]{22}$/),
        kind: 'LOW_BALANCE',
        message: 'Low balance: $0.0028 is below the threshold of $0.003',
        threshold: '0.003',
        balance: '0.0028',
        acknowledgedAt: null,
        wallet: { id: fixture.walletId },
        lowBalanceThreshold: { id: threshold.id, amount: '0.003' },
        recipients: expect.arrayContaining([{ id: fixture.ownerId }, { id: viewer.memberId }]),
      });
      expect(await viewerWatch.until(1)).toEqual([alert]);
      expect(await lowBalanceAlertsOf(fixture.ownerToken)).toEqual([alert]);
      expect(await thresholdsOf(fixture)).toEqual([expect.objectContaining({ armed: false })]);

      // A credit that stays below does not re-arm it; one that reaches it does.
      await fund(app, fixture.walletId, '0.001');
      expect(await thresholdsOf(fixture)).toEqual([expect.objectContaining({ armed: false })]);
      await fund(app, fixture.walletId, '0.0003');
      expect(await thresholdsOf(fixture)).toEqual([expect.objectContaining({ armed: true })]);
      expect((await debit(app, fixture)).allowed).toBe(true);
      const [, second] = await ownerWatch.until(2);
      expect(second).toMatchObject({ balance: '0.0019', threshold: '0.003' });
      expect(await lowBalanceAlertsOf(fixture.ownerToken)).toHaveLength(2);
      // The admin is not a recipient: the alert is in the organization's list, not in their stream.
      expect(adminWatch.received).toEqual([]);
      expect([ownerWatch, viewerWatch, adminWatch].flatMap((watch) => watch.errors)).toEqual([]);
    } finally {
      await Promise.all([ownerWatch.close(), viewerWatch.close(), adminWatch.close()]);
    }
  });

  it('handles several thresholds: each fires at its own crossing, a fall through two fires both, credits and debits of the ledger too', async () => {
    const org = await createOrganization(app);
    const fixture = { ...org, ...(await createWorkspace(app, org.ownerToken)) };
    await fund(app, fixture.walletId, '30');
    const admin = await createMemberWithToken(app, org.ownerToken, 'ADMIN');
    const warning = await setThreshold(fixture, '20');
    const urgent = await setThreshold(fixture, '5', [org.ownerId, admin.memberId]);
    const adminWatch = await watchAlerts(app, admin.token, org.organizationId);
    const adjust = async (amount: string) => {
      const { walletAdjust } = await app.data(ADJUST, { input: { walletId: fixture.walletId, amount, description: 'test', idempotencyKey: requestKey() } }, ADMIN_TOKEN);
      expectNoUserErrors(walletAdjust);
    };
    try {
      await adjust('-15');
      let alerts = await lowBalanceAlertsOf(org.ownerToken);
      expect(alerts.map((alert) => [alert.threshold, alert.balance])).toEqual([['20', '15']]);
      await adjust('-11');
      alerts = await lowBalanceAlertsOf(org.ownerToken);
      expect(alerts.map((alert) => [alert.threshold, alert.balance])).toEqual([['5', '4'], ['20', '15']]);
      // Only the urgent one is addressed to the admin.
      expect((await adminWatch.until(1)).map((alert) => alert.lowBalanceThreshold?.id)).toEqual([urgent.id]);

      // Back above both, then one fall through both: two alerts from one change.
      await adjust('26');
      expect((await thresholdsOf(fixture)).map((threshold) => threshold.armed)).toEqual([true, true]);
      await adjust('-27');
      alerts = await lowBalanceAlertsOf(org.ownerToken);
      expect(alerts.slice(0, 2).map((alert) => [alert.threshold, alert.balance]).sort()).toEqual([['20', '3'], ['5', '3']]);
      await adminWatch.until(2);

      // A removed threshold fires no more; its alerts stay, without it.
      await app.data(REMOVE, { input: { lowBalanceThresholdId: warning.id } }, org.ownerToken);
      await adjust('27');
      await adjust('-27');
      alerts = await lowBalanceAlertsOf(org.ownerToken);
      expect(alerts.filter((alert) => alert.threshold === '20')).toEqual([
        expect.objectContaining({ lowBalanceThreshold: null }),
        expect.objectContaining({ lowBalanceThreshold: null }),
      ]);
      expect(alerts.filter((alert) => alert.threshold === '5')).toHaveLength(3);
      expect(adminWatch.errors).toEqual([]);
    } finally {
      await adminWatch.close();
    }
  });

  it('fires at once for a threshold set above the current balance', async () => {
    const org = await createOrganization(app);
    const fixture = { ...org, ...(await createWorkspace(app, org.ownerToken)) };
    await fund(app, fixture.walletId, '3');
    const threshold = await setThreshold(fixture, '10');
    expect(threshold.armed).toBe(false);
    expect(await lowBalanceAlertsOf(org.ownerToken)).toEqual([expect.objectContaining({ threshold: '10', balance: '3' })]);
  });

  it('fires exactly once when 500 concurrent debits on two server processes cross it', async () => {
    const fixture = await gatewaySetup(app, '1');
    await setThreshold(fixture, '0.5');
    const watch = await watchAlerts(app, fixture.ownerToken, fixture.organizationId);
    try {
      expect((await debitAtOnce([app.server.url, other.url], fixture, 500)).allowed).toBe(500);
      const alerts = await lowBalanceAlertsOf(fixture.ownerToken);
      expect(alerts).toHaveLength(1);
      // The balance the crossing batch left: below the threshold, by less than one batch of debits.
      const balance = Number(alerts[0].balance);
      expect(balance).toBeLessThan(0.5);
      expect(balance).toBeGreaterThanOrEqual(0.45);
      await watch.until(1);
      // A later alert on the same channel, fired at once by a threshold above the balance: had the
      // crossing been published twice, the copy would have arrived before it.
      await setThreshold(fixture, '0.9');
      const marker = (await lowBalanceAlertsOf(fixture.ownerToken)).filter((alert) => alert.threshold === '0.9');
      await watch.until(2);
      expect(watch.received).toEqual([...alerts, ...marker]);
    } finally {
      await watch.close();
    }
  }, 60_000);

  it('reaches a subscriber on one process within a second of a debit on another', async () => {
    const fixture = await gatewaySetup(app, '0.002');
    await setThreshold(fixture, '0.001');
    const watch = await watchAlerts(app, fixture.ownerToken, fixture.organizationId);
    try {
      const sentAt = Date.now();
      expect((await debitAtOnce([other.url], fixture, 1)).allowed).toBe(1);
      const [alert] = await watch.until(1, 1000);
      expect(Date.now() - sentAt).toBeLessThan(1000);
      expect(alert).toMatchObject({ kind: 'LOW_BALANCE', balance: '0.0009', threshold: '0.001', wallet: { id: fixture.walletId } });
    } finally {
      await watch.close();
    }
  }, 30_000);

  it("refuses a subscription to another organization's alerts", async () => {
    const org = await createOrganization(app);
    const stranger = await createOrganization(app);
    const client = subscriptionClient(app, stranger.ownerToken);
    try {
      const { value } = await client.iterate({ query: LOW_BALANCE_ALERT, variables: { organizationId: org.organizationId } }).next();
      expect(value.errors).toEqual([expect.objectContaining({ message: 'organizationId: no such organization' })]);
    } finally {
      await client.dispose();
    }
  });
});

describe('alert webhooks', () => {
  const WEBHOOK_SET = `mutation ($input: AlertWebhookSetInput!) {
    alertWebhookSet(input: $input) { organization { alertWebhookUrl } signingSecret userErrors { code field message } }
  }`;

  async function alertsWithStatus(token: string) {
    return (await app.data('query { organization { alerts { nodes { id kind webhookStatus } } } }', {}, token)).organization.alerts.nodes as Array<{
      id: string;
      kind: string;
      webhookStatus: string | null;
    }>;
  }

  it('sends each alert, signed with the secret, and tries again until the receiver takes it', async () => {
    const receiver = await startWebhookReceiver([503]);
    try {
      const org = await createOrganization(app);
      const fixture = { ...org, ...(await createWorkspace(app, org.ownerToken)) };
      await fund(app, fixture.walletId, '3');
      const { alertWebhookSet } = await app.data(WEBHOOK_SET, { input: { url: receiver.url } }, org.ownerToken);
      expect(alertWebhookSet).toEqual({ organization: { alertWebhookUrl: receiver.url }, signingSecret: expect.stringMatching(/^tgw_/), userErrors: [] });
      const secret = alertWebhookSet.signingSecret as string;

      await setThreshold(fixture, '5');
      const [alert] = await alertsWithStatus(org.ownerToken);
      for (let waited = 0; receiver.received.length < 2; waited += 100) {
        if (waited > 20_000) throw new Error(`deliveries: ${receiver.received.length}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // The first attempt got a 503; the second, the same alert, was taken.
      const [first, second] = receiver.received;
      expect(second.body).toBe(first.body);
      expect(JSON.parse(second.body)).toEqual({
        type: 'alert.raised',
        alert: {
          id: alert.id,
          kind: 'LOW_BALANCE',
          message: 'Low balance: $3 is below the threshold of $5',
          organizationId: org.organizationId,
          walletId: fixture.walletId,
          threshold: '5',
          balance: '3',
          recipientMemberIds: [org.ownerId],
          createdAt: expect.any(String),
        },
      });
      const [, timestamp, digest] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(second.signature)!;
      expect(digest).toBe(createHmac('sha256', secret).update(`${timestamp}.${second.body}`).digest('hex'));
      expect(Math.abs(Date.now() / 1000 - Number(timestamp))).toBeLessThan(60);
      for (let waited = 0; (await alertsWithStatus(org.ownerToken))[0].webhookStatus !== 'DELIVERED'; waited += 100) {
        if (waited > 5000) throw new Error('not marked DELIVERED');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(receiver.received).toHaveLength(2);
    } finally {
      receiver.close();
    }
  }, 40_000);

  it('refuses a URL that is not http(s), and sends nothing for an organization without a webhook', async () => {
    const org = await createOrganization(app);
    const fixture = { ...org, ...(await createWorkspace(app, org.ownerToken)) };
    for (const url of ['ftp://example.com/hook', 'not a url']) {
      const { alertWebhookSet } = await app.data(WEBHOOK_SET, { input: { url } }, org.ownerToken);
      expect(alertWebhookSet).toMatchObject({ signingSecret: null, userErrors: [{ code: 'INVALID', field: ['input', 'url'] }] });
    }
    const viewer = await createMemberWithToken(app, org.ownerToken, 'VIEWER');
    expect(codes(await app.gql(WEBHOOK_SET, { input: { url: 'https://example.com/hook' } }, viewer.token))).toEqual(['FORBIDDEN']);
    expect((await app.data('{ organization { alertWebhookUrl } }', {}, org.ownerToken)).organization.alertWebhookUrl).toBeNull();
    await setThreshold(fixture, '1');
    expect(await alertsWithStatus(org.ownerToken)).toEqual([expect.objectContaining({ kind: 'LOW_BALANCE', webhookStatus: null })]);
  });
});
