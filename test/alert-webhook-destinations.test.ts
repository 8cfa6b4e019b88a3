import pino from 'pino';
import { startTestApp, type TestApp } from './support/app';
import { createFreshDatabase, type FreshDatabase } from './support/database';
import { createOrganization, createWorkspace, eventually, expectNoUserErrors, fund, type OrgFixture } from './support/fixtures';
import { startWebhookReceiver } from './support/webhook-receiver';

/**
 * A server as deployed, with webhooks to private addresses refused (the default). It runs on a
 * database of its own: every server on the run's database takes delivery jobs from one queue, and
 * those of the other tests allow private addresses for their receivers on this machine.
 */
const app = {} as TestApp;
let database: FreshDatabase;
const logged: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  database = await createFreshDatabase('webhook_destinations');
  const logger = pino({ level: 'warn' }, { write: (line: string) => logged.push(JSON.parse(line)) });
  Object.assign(app, await startTestApp({ logger, alertWebhookAllowPrivate: false, jobs: { timeoutSeconds: 30, pollingSeconds: 0.5, alertRelayMs: 100 }, databaseUrl: database.url, migrate: true }));
}, 60_000);

afterAll(async () => {
  await app.close();
  await database.drop();
});

const WEBHOOK_SET = `mutation ($input: AlertWebhookSetInput!) {
  alertWebhookSet(input: $input) { organization { alertWebhookUrl } signingSecret userErrors { code field message } }
}`;
const THRESHOLD_SET = `mutation ($input: LowBalanceThresholdSetInput!) {
  lowBalanceThresholdSet(input: $input) { userErrors { code field message } }
}`;

describe('alert webhook destinations', () => {
  it.each([
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254 is not a public address (link local)'],
    ['http://127.0.0.1:8080/hook', '127.0.0.1 is not a public address (loopback)'],
    ['http://localhost:8080/hook', /^localhost resolves to (127\.0\.0\.1|::1), which is not a public address \(loopback\)$/],
    ['https://10.0.0.7/hook', '10.0.0.7 is not a public address (private)'],
    ['https://172.16.4.2/hook', '172.16.4.2 is not a public address (private)'],
    ['https://192.168.1.10/hook', '192.168.1.10 is not a public address (private)'],
    ['https://100.64.0.1/hook', '100.64.0.1 is not a public address (carrier grade nat)'],
    ['http://0.0.0.0:8080/hook', '0.0.0.0 is not a public address (unspecified)'],
    ['http://2130706433/hook', '127.0.0.1 is not a public address (loopback)'],
    ['http://[::1]:8080/hook', '::1 is not a public address (loopback)'],
    ['http://[fd12:3456::1]/hook', 'fd12:3456::1 is not a public address (unique local)'],
    ['http://[fe80::1]/hook', 'fe80::1 is not a public address (link local)'],
    ['http://[::ffff:169.254.169.254]/hook', '::ffff:a9fe:a9fe is not a public address (link local)'],
    ['http://224.0.0.1/hook', '224.0.0.1 is not a public address (multicast)'],
  ])('refuses %s when it is set', async (url, reason) => {
    const org = await createOrganization(app);
    const { alertWebhookSet } = await app.data(WEBHOOK_SET, { input: { url } }, org.ownerToken);
    expect(alertWebhookSet).toEqual({
      organization: null,
      signingSecret: null,
      userErrors: [{ code: 'INVALID', field: ['input', 'url'], message: expect.stringMatching(/^The webhook URL must reach a public address: /) }],
    });
    const explanation = alertWebhookSet.userErrors[0].message.replace('The webhook URL must reach a public address: ', '');
    if (typeof reason === 'string') expect(explanation).toBe(reason);
    else expect(explanation).toMatch(reason);
    expect((await app.data('{ organization { alertWebhookUrl } }', {}, org.ownerToken)).organization.alertWebhookUrl).toBeNull();
  });

  it('accepts a public address, and a name that does not resolve yet (each delivery judges it again)', async () => {
    const org = await createOrganization(app);
    for (const url of ['https://93.184.215.14/hooks/tollgate', 'https://hooks.tollgate.invalid/alerts']) {
      const { alertWebhookSet } = await app.data(WEBHOOK_SET, { input: { url } }, org.ownerToken);
      expect(alertWebhookSet).toEqual({ organization: { alertWebhookUrl: url }, signingSecret: expect.stringMatching(/^tgw_/), userErrors: [] });
    }
  });

  it('alertWebhookRemove takes the organization, by default your own; another answers NOT_FOUND and changes nothing', async () => {
    const REMOVE = `mutation ($input: AlertWebhookRemoveInput!) {
      alertWebhookRemove(input: $input) { organization { alertWebhookUrl } userErrors { code field } }
    }`;
    const [org, other] = [await createOrganization(app), await createOrganization(app)];
    const url = 'https://hooks.tollgate.invalid/alerts';
    expectNoUserErrors((await app.data(WEBHOOK_SET, { input: { url } }, org.ownerToken)).alertWebhookSet);
    const refused = await app.data(REMOVE, { input: { organizationId: other.organizationId } }, org.ownerToken);
    expect(refused.alertWebhookRemove).toEqual({ organization: null, userErrors: [{ code: 'NOT_FOUND', field: ['input', 'organizationId'] }] });
    const named = await app.data(REMOVE, { input: { organizationId: org.organizationId } }, org.ownerToken);
    expect(named.alertWebhookRemove).toEqual({ organization: { alertWebhookUrl: null }, userErrors: [] });
    expectNoUserErrors((await app.data(WEBHOOK_SET, { input: { url } }, org.ownerToken)).alertWebhookSet);
    expect((await app.data(REMOVE, { input: {} }, org.ownerToken)).alertWebhookRemove).toEqual({ organization: { alertWebhookUrl: null }, userErrors: [] });
  });

  /** An organization whose webhook URL was stored before it was checked, and an alert owed to it. */
  async function alertOwedTo(url: string): Promise<OrgFixture> {
    const org = await createOrganization(app);
    const { walletId } = await createWorkspace(app, org.ownerToken);
    await app.orm.em.fork().getConnection().execute('update organizations set alert_webhook_url = ?, alert_webhook_secret = ? where id = ?', [url, 'tgw_set-before-the-check', org.organizationId]);
    await fund(app, walletId, '3');
    expectNoUserErrors((await app.data(THRESHOLD_SET, { input: { walletId, amount: '5' } }, org.ownerToken)).lowBalanceThresholdSet);
    return org;
  }

  it('sends nothing to a loopback address at delivery, be it named or resolved: the alert fails at once, with the reason logged', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const cases = [
        { url: `http://127.0.0.1:${receiver.port}/hooks`, reason: /^Not sent: 127\.0\.0\.1 is not a public address \(loopback\)$/ },
        // Resolved when the connection is made, and connected to the address that was checked.
        { url: `http://localhost:${receiver.port}/hooks`, reason: /^Not sent: localhost resolves to (127\.0\.0\.1|::1), which is not a public address \(loopback\)$/ },
      ];
      for (const { url, reason } of cases) {
        const org = await alertOwedTo(url);
        const [alert] = await eventually(async () => {
          const { nodes } = (await app.data('{ organization { alerts { nodes { id webhookStatus } } } }', {}, org.ownerToken)).organization.alerts;
          return nodes[0]?.webhookStatus === 'FAILED' && (nodes as Array<{ id: string }>);
        });
        const [stored] = await app.orm.em.fork().getConnection().execute('select webhook_attempts, webhook_error from alerts where id = ?', [alert.id]);
        expect(stored).toEqual({ webhook_attempts: 1, webhook_error: expect.stringMatching(reason) });
        expect(logged).toContainEqual(
          expect.objectContaining({ level: 40, msg: 'alert webhook refused', alertId: alert.id, organizationId: org.organizationId, reason: expect.stringMatching(reason) }),
        );
      }
      expect(receiver.received).toEqual([]);
    } finally {
      receiver.close();
    }
  }, 40_000);
});
