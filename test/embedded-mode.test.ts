import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Client } from 'graphql-ws';
import { type GraphQLClient, graphqlClient, subscriptionClient } from './support/app';
import { type EmbeddedServer, ledgerDisagreements, npmStart, stop } from './support/embedded';
import { eventually } from './support/fixtures';
import { AUTHORIZE, CAPTURE, DEBIT, DEBIT_BATCH, RELEASE, requestKey } from './support/gateway';

/**
 * The product on the embedded database, started exactly as a newcomer starts it (`npm start`,
 * no DATABASE_URL), driven by many clients at once over HTTP and graphql-ws. Every answer must
 * be allowed or a business denial, and afterwards every balance must equal its ledger.
 */
describe('the embedded default runs the whole product', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-embedded-mode-'));
  let server: EmbeddedServer;
  let http: GraphQLClient;
  const sockets: Client[] = [];
  let demo: { organizationId: string; mainWalletId: string; researchWalletId: string; mainWorkspaceId: string };

  beforeAll(async () => {
    // Its alert webhook receiver listens on this machine.
    server = await npmStart(dataDir, { TOLLGATE_ALERT_WEBHOOK_ALLOW_PRIVATE: 'true' });
    http = graphqlClient(server.baseUrl);
    const { viewer } = await http.data(
      '{ viewer { organization { id workspaces { nodes { id name wallet { id } } } } } }',
      {},
      server.ownerToken,
    );
    const workspace = (name: string) => viewer.organization.workspaces.nodes.find((w: { name: string }) => w.name === name);
    demo = {
      organizationId: viewer.organization.id,
      mainWorkspaceId: workspace('Default').id,
      mainWalletId: workspace('Default').wallet.id,
      researchWalletId: workspace('Research').wallet.id,
    };
  }, 180_000);

  afterAll(async () => {
    for (const socket of sockets) await socket.dispose();
    if (server) await stop(server);
    rmSync(dataDir, { recursive: true, force: true });
  });

  const gateway = (query: string, variables: Record<string, unknown>) => http.data(query, variables, server.gatewayToken);
  const owner = (query: string, variables: Record<string, unknown> = {}) => http.data(query, variables, server.ownerToken);
  const balanceOf = async (walletId: string): Promise<string> => (await owner('query ($id: ID!) { node(id: $id) { ... on Wallet { balance } } }', { id: walletId })).node.balance;
  const socket = (token: string) => {
    const client = subscriptionClient(server.baseUrl, token);
    sockets.push(client);
    return client;
  };

  it('starts with a demo to explore: prices, workspaces, projects, an end user with a budget, thresholds, 30 days of usage and $25', async () => {
    const { modelPrices } = await owner('{ modelPrices(first: 100) { nodes { model inputPricePerMillion outputPricePerMillion } } }');
    expect(modelPrices.nodes.length).toBeGreaterThanOrEqual(8);
    expect(new Set(modelPrices.nodes.map((price: { model: string }) => price.model.split('/')[0])).size).toBeGreaterThanOrEqual(3);

    const { viewer } = await owner(`{ viewer { organization { workspaces { nodes { name projects { nodes { name budget { amount period } } }
      identity(externalId: "user_1001") { budget { amount period remaining resetAt } }
      apiKeys(first: 10) { edges { node { name budget { amount period } } } }
      wallet { balance lowBalanceThresholds { amount armed }
        transactions(first: 5, filter: { types: [DEDUCTION] }) { edges { node { model project { name } apiKey { name } } } }
        spendProjection { last7Days { spend depletesAt } last30Days { spend depletesAt } } } } } } } }`);
    const [main, research] = viewer.organization.workspaces.nodes;
    expect([main.name, research.name]).toEqual(['Default', 'Research']);
    expect(main.projects.nodes.length + research.projects.nodes.length).toBeGreaterThanOrEqual(2);
    expect(main.identity).toEqual({ budget: { amount: '5', period: 'MONTHLY', remaining: expect.any(String), resetAt: expect.any(String) } });
    expect(main.apiKeys.edges.map((edge: any) => edge.node)).toContainEqual({ name: 'Demo key', budget: { amount: '10', period: 'DAILY' } });
    expect(main.wallet.balance).toBe('25');
    expect(main.wallet.lowBalanceThresholds).toEqual([
      { amount: '10', armed: true },
      { amount: '5', armed: true },
    ]);
    expect(main.wallet.transactions.edges).toHaveLength(5);
    for (const window of [main.wallet.spendProjection.last7Days, main.wallet.spendProjection.last30Days]) {
      expect(Number(window.spend)).toBeGreaterThan(0);
      expect(window.depletesAt).not.toBeNull();
    }

    const now = new Date();
    const from = new Date(now.getTime() - 30 * 86_400_000).toISOString();
    const { usage } = await owner(
      'query ($from: DateTimeISO!, $to: DateTimeISO!) { usage(filter: { from: $from, to: $to }, groupBy: [DAY, MODEL]) { rows { day model requests cost } total { requests cost } } }',
      { from, to: now.toISOString() },
    );
    expect(new Set(usage.rows.map((row: { day: string }) => row.day)).size).toBeGreaterThanOrEqual(28);
    expect(new Set(usage.rows.map((row: { model: string }) => row.model)).size).toBeGreaterThanOrEqual(8);
    expect(Number(usage.total.requests)).toBeGreaterThan(1000);
  });

  it('prints a curl that makes a debit, and each paste is a new one', async () => {
    const run = async () => JSON.parse((await promisify(execFile)('sh', ['-c', server.curl])).stdout).data.gatewayDebit;
    const first = await run();
    const second = await run();
    expect(first).toMatchObject({ allowed: true, denial: null });
    expect(second).toMatchObject({ allowed: true, cost: first.cost });
    expect(Number(second.availableBalance)).toBeLessThan(Number(first.availableBalance));
  });

  it('answers 8 concurrent clients × 50 debits with the printed key: allowed every time', async () => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const allowed: boolean[] = [];
        for (let i = 0; i < 50; i += 1) {
          const { gatewayDebit } = await gateway(DEBIT, {
            input: { apiKey: server.apiKey, model: 'openai/gpt-4o-mini', idempotencyKey: requestKey(), inputTokens: 1200, outputTokens: 350 },
          });
          allowed.push(gatewayDebit.allowed);
        }
        return allowed;
      }),
    );
    expect(answers.flat()).toEqual(Array(400).fill(true));
  });

  it('takes 16 clients × 100 debits over HTTP and graphql-ws at once; a subscriber sees them, and the threshold they cross fires once, to the webhook too', async () => {
    const deliveries: string[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        deliveries.push(body);
        res.writeHead(200).end();
      });
    }).listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    await owner('mutation ($input: AlertWebhookSetInput!) { alertWebhookSet(input: $input) { userErrors { code } } }', {
      input: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts` },
    });
    const { apiKeyCreate } = await owner('mutation ($input: ApiKeyCreateInput!) { apiKeyCreate(input: $input) { secret userErrors { code } } }', {
      input: { workspaceId: demo.mainWorkspaceId, name: 'Load test' },
    });
    const watcher = socket(server.ownerToken);
    const balances = watcher.iterate<{ walletBalanceChanged: { balance: string } }>({
      query: 'subscription ($id: ID!) { walletBalanceChanged(walletId: $id) { balance } }',
      variables: { id: demo.mainWalletId },
    });
    const seen: string[] = [(await balances.next()).value.data!.walletBalanceChanged.balance];
    const alerts = watcher.iterate<{ lowBalanceAlert: { threshold: string } }>({
      query: 'subscription ($id: ID!) { lowBalanceAlert(organizationId: $id) { threshold } }',
      variables: { id: demo.organizationId },
    });
    const firstAlert = alerts.next();
    const watching = (async () => {
      for await (const event of balances) seen.push(event.data!.walletBalanceChanged.balance);
    })().catch((error) => error);

    const outcomes = await Promise.all(
      Array.from({ length: 16 }, async (_, client) => {
        const overWs = client % 2 === 1 ? socket(server.gatewayToken) : null;
        const codes: string[] = [];
        for (let i = 0; i < 100; i += 1) {
          // About $0.0116 a call: 1,600 of them take the $25 wallet below its $10 threshold, not below $5.
          const variables = {
            input: { apiKey: apiKeyCreate.secret, model: 'anthropic/claude-sonnet-4.5', idempotencyKey: requestKey(), identity: `load-user-${client}`, inputTokens: 1000, outputTokens: 500 },
          };
          const result = overWs
            ? (await overWs.iterate<{ gatewayDebit: { allowed: boolean; denial: { code: string } | null } }>({ query: DEBIT, variables }).next()).value
            : await http.gql(DEBIT, variables, server.gatewayToken);
          if (result.errors) throw new Error(`client ${client}, call ${i}: ${JSON.stringify(result.errors)}`);
          codes.push(result.data!.gatewayDebit.denial?.code ?? 'ALLOWED');
        }
        return codes;
      }),
    );
    expect(new Set(outcomes.flat())).toEqual(new Set(['ALLOWED']));

    const after = await balanceOf(demo.mainWalletId);
    expect(Number(after)).toBeLessThan(10);
    expect(Number(after)).toBeGreaterThan(5);
    await expect(firstAlert).resolves.toMatchObject({ value: { data: { lowBalanceAlert: { threshold: '10' } } } });
    await eventually(async () => seen[seen.length - 1] === after);
    const delivered = async () => (await owner('{ viewer { organization { alerts(first: 10) { nodes { kind threshold webhookStatus } } } } }')).viewer.organization.alerts.nodes;
    expect(await eventually(async () => (await delivered())[0]?.webhookStatus === 'DELIVERED' && delivered())).toEqual([
      { kind: 'LOW_BALANCE', threshold: '10', webhookStatus: 'DELIVERED' },
    ]);
    expect(deliveries.map((body) => JSON.parse(body).alert.threshold)).toEqual(['10']);
    receiver.close();
    await balances.return?.();
    await alerts.return?.();
    expect(await watching).toBeUndefined();
  });

  it('decides a batch of 500 debits', async () => {
    const inputs = Array.from({ length: 500 }, (_, i) => ({
      apiKey: server.apiKey,
      model: i % 2 ? 'google/gemini-2.5-flash' : 'openai/gpt-4o-mini',
      idempotencyKey: requestKey(),
      inputTokens: 800,
      outputTokens: 200,
    }));
    const { gatewayDebitBatch } = await gateway(DEBIT_BATCH, { input: { debits: inputs } });
    expect(gatewayDebitBatch.results.filter((result: { allowed: boolean }) => result.allowed)).toHaveLength(500);
  });

  it('holds, captures and releases, over HTTP and graphql-ws', async () => {
    const authorizeInput = () => ({ apiKey: server.apiKey, model: 'openai/gpt-5-mini', idempotencyKey: requestKey(), maxInputTokens: 2000, maxOutputTokens: 1000 });
    const { gatewayAuthorize: held } = await gateway(AUTHORIZE, { input: authorizeInput() });
    expect(held).toMatchObject({ allowed: true, hold: { amount: expect.any(String) } });
    const balance = await balanceOf(demo.mainWalletId);
    expect(Number(held.availableBalance)).toBeCloseTo(Number(balance) - Number(held.hold.amount), 9);

    const { gatewayCapture } = await gateway(CAPTURE, { input: { holdId: held.hold.id, inputTokens: 1500, outputTokens: 400 } });
    expect(gatewayCapture).toMatchObject({ allowed: true, cost: gatewayCapture.charged });
    const captured = await balanceOf(demo.mainWalletId);
    expect(Number(captured)).toBeCloseTo(Number(balance) - Number(gatewayCapture.cost), 9);

    const overWs = socket(server.gatewayToken);
    const { value } = await overWs.iterate<any>({ query: AUTHORIZE, variables: { input: authorizeInput() } }).next();
    expect(Number(value.data.gatewayAuthorize.availableBalance)).toBeLessThan(Number(captured));
    const released = await overWs.iterate<any>({ query: RELEASE, variables: { input: { holdId: value.data.gatewayAuthorize.hold.id } } }).next();
    expect(released.value.data.gatewayRelease).toMatchObject({ allowed: true, availableBalance: captured });
  });

  it('transfers between the demo workspaces', async () => {
    const before = await balanceOf(demo.researchWalletId);
    const { walletTransfer } = await owner(
      'mutation ($input: WalletTransferInput!) { walletTransfer(input: $input) { transferIn { amount } userErrors { code } } }',
      { input: { fromWalletId: demo.researchWalletId, toWalletId: demo.mainWalletId, amount: '3', idempotencyKey: requestKey() } },
    );
    expect(walletTransfer).toEqual({ transferIn: { amount: '3' }, userErrors: [] });
    expect(Number(await balanceOf(demo.researchWalletId))).toBeCloseTo(Number(before) - 3, 9);
  });

  it('reports the usage of the load, by model', async () => {
    const { usage } = await owner(
      'query ($from: DateTimeISO!, $to: DateTimeISO!) { usage(filter: { from: $from, to: $to, models: ["anthropic/claude-sonnet-4.5"] }, groupBy: [API_KEY]) { rows { apiKey { name } requests } } }',
      { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() },
    );
    expect(usage.rows).toContainEqual({ apiKey: { name: 'Load test' }, requests: '1600' });
  });

  it('stops on SIGTERM, and every balance, hold and usage figure agrees with the ledger', async () => {
    await stop(server);
    expect(await ledgerDisagreements(dataDir)).toEqual([]);
  }, 60_000);
});
