import { ADMIN_TOKEN, GATEWAY_TOKEN, useTestApp } from './support/app';
import { expectNoUserErrors, unique } from './support/fixtures';
import { COST_OF_1000_INPUT, createApiKey, debit, gatewaySetup, requestKey, walletState } from './support/gateway';

/** The server's clock: allowances are per UTC calendar month. */
let now = new Date('2026-06-30T23:00:00.000Z');
const app = useTestApp({ clock: () => now });

/** $0.0005 a unit. */
const UNIT_PRICE = 500_000n;

const REPORT = `mutation ($input: GatewayMeterReportInput!) { gatewayMeterReport(input: $input) {
  allowed denial { code httpStatus } cost billedQuantity includedRemaining availableBalance transactionId
  transaction { type amount meter meterQuantity apiKey { id } } limits { costRemaining } } }`;

async function setMeter(input: Record<string, unknown>, token = ADMIN_TOKEN) {
  return app.gql(
    `mutation ($input: MeterSetInput!) { meterSet(input: $input) { meter { name unitPrice includedPerMonth } userErrors { code field } } }`,
    { input },
    token,
  );
}

/** A new meter at UNIT_PRICE with `included` units a month. */
async function newMeter(included: number): Promise<string> {
  const name = unique('trace').replace(' ', '-');
  const { data } = await setMeter({ name, unitPrice: '0.0005', includedPerMonth: included });
  expectNoUserErrors(data!.meterSet);
  return name;
}

async function setAllowance(workspaceId: string, meter: string, includedPerMonth: number | null) {
  const { meterAllowanceSet } = await app.data(
    `mutation ($input: MeterAllowanceSetInput!) { meterAllowanceSet(input: $input) {
       workspaceMeter { includedPerMonth overridden used } userErrors { code field } } }`,
    { input: { workspaceId, meter, includedPerMonth } },
    ADMIN_TOKEN,
  );
  return meterAllowanceSet;
}

async function report(secret: string, meter: string, quantity: number | string, input: Record<string, unknown> = {}) {
  const { gatewayMeterReport } = await app.data(REPORT, { input: { apiKey: secret, meter, quantity, idempotencyKey: requestKey(), ...input } }, GATEWAY_TOKEN);
  return gatewayMeterReport;
}

async function workspaceMeter(workspaceId: string, meter: string, token: string) {
  const { node } = await app.data(
    `query ($id: ID!) { node(id: $id) { ... on Workspace { meters { meter { name } includedPerMonth overridden monthStart used billed cost } } } }`,
    { id: workspaceId },
    token,
  );
  return node.meters.find((entry: { meter: { name: string } }) => entry.meter.name === meter);
}

describe('meters', () => {
  it('are defined by the platform admin, checked, and listed', async () => {
    const name = unique('trace').replace(' ', '-');
    expect((await setMeter({ name, unitPrice: '0.0005', includedPerMonth: '10000' })).data!.meterSet).toEqual({
      meter: { name, unitPrice: '0.0005', includedPerMonth: '10000' },
      userErrors: [],
    });
    expect((await setMeter({ name: 'Has Spaces', unitPrice: '1', includedPerMonth: 0 })).data!.meterSet.userErrors).toEqual([{ code: 'INVALID', field: ['input', 'name'] }]);
    expect((await setMeter({ name, unitPrice: '-1', includedPerMonth: 0 })).data!.meterSet.userErrors).toEqual([{ code: 'INVALID', field: ['input', 'unitPrice'] }]);
    expect((await setMeter({ name, unitPrice: '1000.000000001', includedPerMonth: 0 })).data!.meterSet.userErrors).toEqual([
      { code: 'INVALID', field: ['input', 'unitPrice'] },
    ]);
    const { ownerToken } = await gatewaySetup(app, null);
    expect((await setMeter({ name, unitPrice: '0', includedPerMonth: 0 }, ownerToken)).errors![0].extensions?.code).toBe('FORBIDDEN');
    const { meters } = await app.data(`{ meters { name unitPrice includedPerMonth } }`, {}, ownerToken);
    expect(meters).toContainEqual({ name, unitPrice: '0.0005', includedPerMonth: '10000' });
  });
});

describe('a meter report', () => {
  it('charges only what is beyond the monthly allowance, once, as a METERED row shown in usage', async () => {
    const fixture = await gatewaySetup(app, '1');
    const meter = await newMeter(1000);

    const within = await report(fixture.secret, meter, 600);
    expect(within).toMatchObject({ allowed: true, cost: '0', billedQuantity: '0', includedRemaining: '400', transactionId: null, availableBalance: '1' });

    const key = requestKey();
    const across = await report(fixture.secret, meter, 600, { idempotencyKey: key });
    // 200 units beyond the 1,000 included, at $0.0005: $0.1.
    expect(across).toMatchObject({
      allowed: true,
      cost: '0.1',
      billedQuantity: '200',
      includedRemaining: '0',
      availableBalance: '0.9',
      transaction: { type: 'METERED', amount: '-0.1', meter, meterQuantity: '200', apiKey: { id: fixture.apiKeyId } },
    });
    // A retry is answered as the first time and charges nothing more; the key with another report is refused.
    expect(await report(fixture.secret, meter, 600, { idempotencyKey: key })).toEqual(across);
    expect((await report(fixture.secret, meter, 601, { idempotencyKey: key })).denial).toEqual({ code: 'IDEMPOTENCY_KEY_REUSED', httpStatus: 409 });

    expect(await report(fixture.secret, meter, 3)).toMatchObject({ cost: '0.0015', billedQuantity: '3' });
    expect(await workspaceMeter(fixture.workspaceId, meter, fixture.ownerToken)).toEqual({
      meter: { name: meter },
      includedPerMonth: '1000',
      overridden: false,
      monthStart: '2026-06-01T00:00:00.000Z',
      used: '1203',
      billed: '203',
      cost: '0.1015',
    });
    await debit(app, fixture);

    // Whole hours come from the rollup, a part of an hour from the ledger: both agree.
    for (const to of ['2026-07-01T00:00:00Z', '2026-06-30T23:30:00Z']) {
      const { usage } = await app.data(
        `query ($filter: UsageFilterInput!) { usage(filter: $filter, groupBy: [METER]) {
           rows { meter cost meteredCost providerCost requests } total { cost meteredCost requests } } }`,
        { filter: { from: '2026-06-30T23:00:00Z', to, workspaceId: fixture.workspaceId } },
        fixture.ownerToken,
      );
      expect(usage.rows).toEqual([
        { meter, cost: '0.1015', meteredCost: '0.1015', providerCost: '0', requests: '0' },
        { meter: null, cost: '0.0011', meteredCost: '0', providerCost: '0.001', requests: '1' },
      ]);
      expect(usage.total).toEqual({ cost: '0.1026', meteredCost: '0.1015', requests: '1' });
    }
    const state = await walletState(app, fixture.walletId);
    expect(state.balance).toBe(1_000_000_000n - 203n * UNIT_PRICE - COST_OF_1000_INPUT);
    expect(state.sum).toBe(state.balance);
  });

  it("counts against the next month's allowance afresh, and a workspace's own allowance", async () => {
    const fixture = await gatewaySetup(app, '1');
    const meter = await newMeter(10);
    expect(await report(fixture.secret, meter, 15)).toMatchObject({ billedQuantity: '5' });

    expect(await setAllowance(fixture.workspaceId, meter, 0)).toEqual({ workspaceMeter: { includedPerMonth: '0', overridden: true, used: '15' }, userErrors: [] });
    expect(await report(fixture.secret, meter, 2)).toMatchObject({ billedQuantity: '2', includedRemaining: '0' });
    expect((await setAllowance(fixture.workspaceId, meter, null)).workspaceMeter).toEqual({ includedPerMonth: '10', overridden: false, used: '17' });
    expect((await setAllowance(fixture.workspaceId, 'no-such-meter', 5)).userErrors).toEqual([{ code: 'NOT_FOUND', field: ['input', 'meter'] }]);
    // Left out is neither a count nor a removal.
    const leftOut = await app.gql(`mutation ($input: MeterAllowanceSetInput!) { meterAllowanceSet(input: $input) { userErrors { code } } }`, {
      input: { workspaceId: fixture.workspaceId, meter },
    }, ADMIN_TOKEN);
    expect(leftOut.errors![0].extensions?.code).toBe('BAD_USER_INPUT');
    expect((await workspaceMeter(fixture.workspaceId, meter, fixture.ownerToken)).overridden).toBe(false);

    const lastMonth = now;
    now = new Date('2026-07-01T00:00:01.000Z');
    try {
      expect(await report(fixture.secret, meter, 4)).toMatchObject({ cost: '0', billedQuantity: '0', includedRemaining: '6' });
    } finally {
      now = lastMonth;
    }
  });

  it("counts in the key's cost limit and needs the credits; a refused report counts nothing", async () => {
    // A key that may spend $0.0011 a day: one 1,000-token call.
    const fixture = await gatewaySetup(app, '0.002', { budget: { amount: '0.0011', period: 'DAILY' } });
    const meter = await newMeter(0);
    expect(await report(fixture.secret, meter, 2)).toMatchObject({ allowed: true, cost: '0.001', limits: { costRemaining: '0.0001' } });
    expect((await debit(app, fixture)).denial.code).toBe('KEY_COST_LIMIT_REACHED');
    expect(await report(fixture.secret, meter, 1)).toMatchObject({ allowed: false, denial: { code: 'KEY_COST_LIMIT_REACHED', httpStatus: 429 } });

    const other = await createApiKey(app, fixture.ownerToken, fixture.workspaceId);
    expect(await report(other.secret, meter, 3)).toMatchObject({ allowed: false, denial: { code: 'INSUFFICIENT_CREDITS', httpStatus: 402 } });
    expect((await workspaceMeter(fixture.workspaceId, meter, fixture.ownerToken)).used).toBe('2');
  });

  it('fires low-balance alerts and counts in the spend projection', async () => {
    const fixture = await gatewaySetup(app, '1');
    const meter = await newMeter(0);
    const { lowBalanceThresholdSet } = await app.data(
      `mutation ($input: LowBalanceThresholdSetInput!) { lowBalanceThresholdSet(input: $input) { userErrors { code } } }`,
      { input: { walletId: fixture.walletId, amount: '0.95' } },
      fixture.ownerToken,
    );
    expectNoUserErrors(lowBalanceThresholdSet);
    expect(await report(fixture.secret, meter, 200)).toMatchObject({ cost: '0.1', availableBalance: '0.9' });
    const { organization } = await app.data(`{ organization { alerts(first: 5) { nodes { kind threshold balance } } } }`, {}, fixture.ownerToken);
    expect(organization.alerts.nodes).toEqual([{ kind: 'LOW_BALANCE', threshold: '0.95', balance: '0.9' }]);

    const reportedAt = now;
    now = new Date(reportedAt.getTime() + 60_000);
    try {
      const { node } = await app.data(`query ($id: ID!) { node(id: $id) { ... on Wallet { spendProjection { last7Days { spend } } } } }`, { id: fixture.walletId }, fixture.ownerToken);
      expect(node.spendProjection.last7Days.spend).toBe('0.1');
    } finally {
      now = reportedAt;
    }
  });

  it('is refused for an unknown meter or key; bad input is a malformed request that changes nothing', async () => {
    const fixture = await gatewaySetup(app, '1');
    const meter = await newMeter(0);
    expect((await report(fixture.secret, 'no-such-meter', 1)).denial).toEqual({ code: 'UNKNOWN_METER', httpStatus: 400 });
    expect((await report('tg_not_a_key', meter, 1)).denial).toEqual({ code: 'INVALID_API_KEY', httpStatus: 401 });
    for (const quantity of [0, 1_000_001, '-1']) {
      const result = await app.gql(REPORT, { input: { apiKey: fixture.secret, meter, quantity, idempotencyKey: requestKey() } }, GATEWAY_TOKEN);
      expect(result.errors![0].extensions?.code).toBe('BAD_USER_INPUT');
    }
    expect((await app.gql(REPORT, { input: { apiKey: fixture.secret, meter, quantity: 1, idempotencyKey: requestKey() } }, fixture.ownerToken)).errors![0].extensions?.code).toBe(
      'FORBIDDEN',
    );
    expect(await walletState(app, fixture.walletId)).toMatchObject({ balance: 1_000_000_000n, sum: 1_000_000_000n });
  });
});
