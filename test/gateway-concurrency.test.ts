import { formatMoney } from '../src/money';
import { ADMIN_TOKEN, GATEWAY_TOKEN, useTestApp } from './support/app';
import { fund, unique } from './support/fixtures';
import { type ServerProcess, spawnServer } from './support/process';
import { COST_OF_1000_INPUT, DEBIT, debitAtOnce, gatewaySetup, requestKey, walletState } from './support/gateway';

const app = useTestApp();
const CALLS = 2000;
const FUNDED_FOR = 1234;

const exactly = (cost: bigint, times: number) => formatMoney(cost * BigInt(times));

// The rules themselves are decided in memory by test/decide.test.ts; here, what only the database
// shows: locked wallets and usage counters admit exactly their limit under contention.
describe(`${CALLS} concurrent debits against limits that admit exactly ${FUNDED_FOR}`, () => {
  it('the wallet balance: exactly that many allowed, balance 0, ledger sum equals the change', async () => {
    const fixture = await gatewaySetup(app, exactly(COST_OF_1000_INPUT, FUNDED_FOR));
    const { allowed, denials } = await debitAtOnce([app.server.url], fixture, CALLS);
    expect(allowed).toBe(FUNDED_FOR);
    expect(denials).toEqual(new Map([['INSUFFICIENT_CREDITS', CALLS - FUNDED_FOR]]));
    expect(await walletState(app, fixture.walletId)).toEqual({ balance: 0n, held: 0n, sum: 0n, deductions: FUNDED_FOR });
  });

  it("the key's cost limit", async () => {
    const fixture = await gatewaySetup(app, '100', { budget: { amount: exactly(COST_OF_1000_INPUT, FUNDED_FOR), period: 'MONTHLY' } });
    const { allowed, denials } = await debitAtOnce([app.server.url], fixture, CALLS);
    expect(allowed).toBe(FUNDED_FOR);
    expect(denials).toEqual(new Map([['KEY_COST_LIMIT_REACHED', CALLS - FUNDED_FOR]]));
    const state = await walletState(app, fixture.walletId);
    expect(state.balance).toBe(100_000_000_000n - COST_OF_1000_INPUT * BigInt(FUNDED_FOR));
    expect(state.sum).toBe(state.balance);
  });

  it("an identity's budget", async () => {
    const fixture = await gatewaySetup(app, '100');
    await app.data(
      `mutation ($input: IdentityUpsertInput!) { identityUpsert(input: $input) { userErrors { code } } }`,
      { input: { workspaceId: fixture.workspaceId, externalId: 'heavy-user', budget: { amount: exactly(COST_OF_1000_INPUT, FUNDED_FOR), period: 'WEEKLY' } } },
      fixture.ownerToken,
    );
    const { allowed, denials } = await debitAtOnce([app.server.url], fixture, CALLS, { identity: 'heavy-user' });
    expect(allowed).toBe(FUNDED_FOR);
    expect(denials).toEqual(new Map([['IDENTITY_BUDGET_EXCEEDED', CALLS - FUNDED_FOR]]));
  });
});

describe('two server processes on one database', () => {
  let other: ServerProcess;
  let otherUrl: string;

  beforeAll(async () => {
    other = await spawnServer();
    otherUrl = other.url;
  }, 60_000);

  afterAll(() => {
    other.process.kill('SIGTERM');
  });

  it('admit exactly what the wallet can pay, split across both', async () => {
    const fixture = await gatewaySetup(app, exactly(COST_OF_1000_INPUT, FUNDED_FOR));
    const { allowed, denials } = await debitAtOnce([app.server.url, otherUrl], fixture, CALLS);
    expect(allowed).toBe(FUNDED_FOR);
    expect(denials).toEqual(new Map([['INSUFFICIENT_CREDITS', CALLS - FUNDED_FOR]]));
    expect(await walletState(app, fixture.walletId)).toEqual({ balance: 0n, held: 0n, sum: 0n, deductions: FUNDED_FOR });
  });

  it("charge exactly the units beyond a meter's allowance, for 500 reports at once across its boundary", async () => {
    const fixture = await gatewaySetup(app, '1');
    const meter = unique('trace').replace(' ', '-');
    await app.data(`mutation ($input: MeterSetInput!) { meterSet(input: $input) { userErrors { code } } }`, {
      input: { name: meter, unitPrice: '0.0005', includedPerMonth: 300 },
    }, ADMIN_TOKEN);
    const urls = [app.server.url, otherUrl];
    const answers = await Promise.all(
      Array.from({ length: 500 }, async (_, i) => {
        const response = await fetch(`${urls[i % 2]}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${GATEWAY_TOKEN}` },
          body: JSON.stringify({
            query: `mutation ($input: GatewayMeterReportInput!) { gatewayMeterReport(input: $input) { allowed billedQuantity cost } }`,
            variables: { input: { apiKey: fixture.secret, meter, quantity: 1, idempotencyKey: requestKey() } },
          }),
        });
        return ((await response.json()) as any).data.gatewayMeterReport as { allowed: boolean; billedQuantity: string; cost: string };
      }),
    );
    expect(answers.filter((answer) => answer.allowed)).toHaveLength(500);
    expect(answers.filter((answer) => answer.billedQuantity === '1' && answer.cost === '0.0005')).toHaveLength(200);
    const state = await walletState(app, fixture.walletId);
    expect(state).toMatchObject({ balance: 1_000_000_000n - 200n * 500_000n, held: 0n });
    expect(state.sum).toBe(state.balance);
  });

  it('refuse a revoked key on the other process at once', async () => {
    const fixture = await gatewaySetup(app, '1');
    await fund(app, fixture.walletId, '1');
    await app.data(`mutation ($id: ID!) { apiKeyRevoke(input: { apiKeyId: $id }) { userErrors { code } } }`, { id: fixture.apiKeyId }, fixture.ownerToken);
    const response = await fetch(`${otherUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${GATEWAY_TOKEN}` },
      body: JSON.stringify({
        query: DEBIT,
        variables: { input: { apiKey: fixture.secret, model: fixture.model, idempotencyKey: requestKey(), inputTokens: 1, outputTokens: 0 } },
      }),
    });
    expect(((await response.json()) as any).data.gatewayDebit.denial.code).toBe('INVALID_API_KEY');
  });
});
