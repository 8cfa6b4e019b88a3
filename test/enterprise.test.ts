import { ADMIN_TOKEN, GATEWAY_TOKEN, useTestApp } from './support/app';
import { CREDIT_TERMS_SET, setCreditTerms } from './support/enterprise';
import { codes, createMemberWithToken, createWorkspace, expectNoUserErrors, fund, organizationState } from './support/fixtures';
import { authorize, CAPTURE, debit, type GatewayFixture, gatewaySetup, walletState } from './support/gateway';

/**
 * Enterprise accounts: a credit line lets each wallet of the organization go down to minus the
 * limit. Costs by hand: $1 per 1M input tokens with the default 10% markup, so 1,000 input tokens
 * cost 1,100,000 nano-USD ($0.0011).
 */

/** The server's clock, moved by the tests: no sleeps. */
let now = new Date('2026-11-20T12:00:00.000Z');
const app = useTestApp({ clock: () => now });

const BALANCES = `query ($id: ID!) {
  node(id: $id) { ... on Wallet { balance availableBalance } }
  organization { balance availableBalance creditTerms { creditLimit netTermsDays } }
}`;

async function balances(fixture: GatewayFixture) {
  const { node, organization } = await app.data(BALANCES, { id: fixture.walletId }, fixture.ownerToken);
  return { wallet: node, organization };
}

describe('organizationCreditTermsSet: the platform admin puts an organization on invoice', () => {
  it('sets the credit line and net terms, shown to the members; "0" ends the line', async () => {
    const fixture = await gatewaySetup(app, null);
    const viewer = await createMemberWithToken(app, fixture.ownerToken, 'VIEWER');
    expect(await setCreditTerms(app, fixture.organizationId, '250.5', 45)).toEqual({ id: fixture.organizationId, creditTerms: { creditLimit: '250.5', netTermsDays: 45 } });
    const { organization } = await app.data(`{ organization { creditTerms { creditLimit netTermsDays } } }`, {}, viewer.token);
    expect(organization.creditTerms).toEqual({ creditLimit: '250.5', netTermsDays: 45 });
    // Net terms left out stay as they were.
    expect((await setCreditTerms(app, fixture.organizationId, '100')).creditTerms).toEqual({ creditLimit: '100', netTermsDays: 45 });
    expect((await setCreditTerms(app, fixture.organizationId, '0')).creditTerms).toBeNull();
  });

  it('is for the platform admin only, refuses malformed input as BAD_USER_INPUT and out-of-range values as INVALID, and changes nothing then', async () => {
    const fixture = await gatewaySetup(app, null);
    const before = await organizationState(app, fixture.organizationId);
    const call = (input: Record<string, unknown>, token = ADMIN_TOKEN) => app.gql(CREDIT_TERMS_SET, { input }, token);
    const valid = { organizationId: fixture.organizationId, creditLimit: '100', netTermsDays: 30 };
    expect(codes(await call(valid, fixture.ownerToken))).toEqual(['FORBIDDEN']);
    expect(codes(await call(valid, GATEWAY_TOKEN))).toEqual(['FORBIDDEN']);
    expect(codes(await call(valid, ''))).toEqual(['UNAUTHENTICATED']);
    for (const bad of [{ creditLimit: '1.0000000001' }, { creditLimit: 'a lot' }, { organizationId: 'ws_0000000000000000000000' }]) {
      const result = await call({ ...valid, ...bad });
      expect({ bad, codes: codes(result) }).toEqual({ bad, codes: ['BAD_USER_INPUT'] });
    }
    for (const [bad, field] of [
      [{ creditLimit: '-1' }, 'creditLimit'],
      [{ creditLimit: '100000000.000000001' }, 'creditLimit'],
      [{ netTermsDays: 0 }, 'netTermsDays'],
      [{ netTermsDays: 121 }, 'netTermsDays'],
    ] as const) {
      const { organizationCreditTermsSet } = await app.data(CREDIT_TERMS_SET, { input: { ...valid, ...bad } }, ADMIN_TOKEN);
      expect({ bad, answer: organizationCreditTermsSet }).toEqual({
        bad,
        answer: { organization: null, userErrors: [{ field: ['input', field], code: 'INVALID', message: expect.stringContaining(field) }] },
      });
    }
    const missing = await app.data(CREDIT_TERMS_SET, { input: { ...valid, organizationId: 'org_0000000000000000000000' } }, ADMIN_TOKEN);
    expect(missing.organizationCreditTermsSet).toEqual({ organization: null, userErrors: [{ field: ['input', 'organizationId'], code: 'NOT_FOUND', message: 'No such organization' }] });
    expect(await organizationState(app, fixture.organizationId)).toEqual(before);
    expect((await balances(fixture)).organization.creditTerms).toBeNull();
  });
});

describe('the credit line in the guard rule', () => {
  it('lets a wallet go to exactly minus the limit, and no further (INSUFFICIENT_CREDITS 402)', async () => {
    const fixture = await gatewaySetup(app, '0.0022');
    await setCreditTerms(app, fixture.organizationId, '0.0033');
    // $0.0022 + $0.0033 of credit: five calls of $0.0011.
    expect(await balances(fixture)).toMatchObject({ wallet: { balance: '0.0022', availableBalance: '0.0055' }, organization: { balance: '0.0022', availableBalance: '0.0055' } });
    const answers = [];
    for (let i = 0; i < 5; i += 1) answers.push(await debit(app, fixture));
    expect(answers.map((answer) => [answer.allowed, answer.availableBalance])).toEqual([
      [true, '0.0044'],
      [true, '0.0033'],
      [true, '0.0022'],
      [true, '0.0011'],
      [true, '0'],
    ]);
    const refused = await debit(app, fixture);
    expect(refused).toMatchObject({ allowed: false, denial: { code: 'INSUFFICIENT_CREDITS', httpStatus: 402 } });
    // Not even one token more ($0.0000011).
    expect((await debit(app, fixture, { inputTokens: 1 })).denial.code).toBe('INSUFFICIENT_CREDITS');
    expect(await walletState(app, fixture.walletId)).toEqual({ balance: -3_300_000n, held: 0n, sum: -3_300_000n, deductions: 5 });
    expect(await balances(fixture)).toMatchObject({ wallet: { balance: '-0.0033', availableBalance: '0' } });
  });

  it('holds count against it, and a capture charges down to minus the limit, never below', async () => {
    const fixture = await gatewaySetup(app, null);
    await setCreditTerms(app, fixture.organizationId, '0.0033');
    const held = await authorize(app, fixture, { maxInputTokens: 2000 });
    expect(held).toMatchObject({ allowed: true, hold: { amount: '0.0022' }, availableBalance: '0.0011' });
    // $0.0022 held of $0.0033: a second hold of $0.0022 does not fit.
    expect((await authorize(app, fixture, { maxInputTokens: 2000 })).denial.code).toBe('INSUFFICIENT_CREDITS');
    // The call used 5,000 tokens ($0.0055): charged what the line allows, $0.0033.
    const { gatewayCapture } = await app.data(CAPTURE, { input: { holdId: held.hold.id, inputTokens: 5000, outputTokens: 0 } }, GATEWAY_TOKEN);
    expect(gatewayCapture).toMatchObject({ allowed: true, cost: '0.0055', charged: '0.0033', availableBalance: '0' });
    expect(await walletState(app, fixture.walletId)).toEqual({ balance: -3_300_000n, held: 0n, sum: -3_300_000n, deductions: 1 });
  });

  it('is per wallet: each workspace of the organization may go to minus the limit', async () => {
    const fixture = await gatewaySetup(app, null);
    const other = await createWorkspace(app, fixture.ownerToken);
    await setCreditTerms(app, fixture.organizationId, '0.0011');
    expect((await debit(app, fixture)).allowed).toBe(true);
    expect((await debit(app, fixture)).allowed).toBe(false);
    const { organization } = await app.data(`{ organization { balance availableBalance } }`, {}, fixture.ownerToken);
    // Two wallets, each with $0.0011 of credit; one used it.
    expect(organization).toEqual({ balance: '-0.0011', availableBalance: '0.0011' });
    expect(await balances({ ...fixture, walletId: other.walletId })).toMatchObject({ wallet: { balance: '0', availableBalance: '0.0011' } });
  });

  it('ends when set to 0: a wallet below zero spends nothing until it is paid back', async () => {
    const fixture = await gatewaySetup(app, null);
    await setCreditTerms(app, fixture.organizationId, '0.0022');
    expect((await debit(app, fixture)).allowed).toBe(true);
    await setCreditTerms(app, fixture.organizationId, '0');
    expect((await debit(app, fixture)).denial.code).toBe('INSUFFICIENT_CREDITS');
    expect(await balances(fixture)).toMatchObject({ wallet: { balance: '-0.0011', availableBalance: '-0.0011' } });
    await fund(app, fixture.walletId, '0.0022');
    expect((await debit(app, fixture)).allowed).toBe(true);
  });
});

const THRESHOLD_SET = `mutation ($input: LowBalanceThresholdSetInput!) { lowBalanceThresholdSet(input: $input) { threshold { id } userErrors { code message } } }`;
const THRESHOLDS = `query ($id: ID!) { node(id: $id) { ... on Wallet { lowBalanceThresholds { amount armed } } } }`;
const ALERTS = `{ organization { alerts(first: 10) { nodes { kind threshold balance message } } } }`;

describe('low-balance thresholds judge what is left to spend: the balance and the credit line', () => {
  it('fires when balance + credit line falls below the threshold, and re-arms when the line is raised', async () => {
    const fixture = await gatewaySetup(app, '0.0022');
    await setCreditTerms(app, fixture.organizationId, '0.0033');
    expectNoUserErrors((await app.data(THRESHOLD_SET, { input: { walletId: fixture.walletId, amount: '0.003' } }, fixture.ownerToken)).lowBalanceThresholdSet);
    const alerts = async () => (await app.data(ALERTS, {}, fixture.ownerToken)).organization.alerts.nodes;
    // Left to spend: $0.0044, then $0.0033: at or above $0.003, although the balance is below it.
    await debit(app, fixture);
    await debit(app, fixture);
    expect(await alerts()).toEqual([]);
    // $0.0022 left (balance -$0.0011): below.
    await debit(app, fixture);
    expect(await alerts()).toEqual([{ kind: 'LOW_BALANCE', threshold: '0.003', balance: '0.0022', message: 'Low balance: $0.0022 is below the threshold of $0.003' }]);
    expect((await app.data(THRESHOLDS, { id: fixture.walletId }, fixture.ownerToken)).node.lowBalanceThresholds).toEqual([{ amount: '0.003', armed: false }]);
    // A higher line leaves $0.0089 to spend: armed again, no alert.
    await setCreditTerms(app, fixture.organizationId, '0.01');
    expect((await app.data(THRESHOLDS, { id: fixture.walletId }, fixture.ownerToken)).node.lowBalanceThresholds).toEqual([{ amount: '0.003', armed: true }]);
    // A lower one leaves $0.0009: fires at once.
    await setCreditTerms(app, fixture.organizationId, '0.002');
    expect((await alerts()).map((alert: { balance: string }) => alert.balance)).toEqual(['0.0009', '0.0022']);
  });
});

describe('the spend projection runs out at minus the credit limit', () => {
  it('projects from the balance plus the credit line', async () => {
    now = new Date('2026-11-20T12:00:00.000Z');
    const fixture = await gatewaySetup(app, null);
    await setCreditTerms(app, fixture.organizationId, '0.0033');
    await debit(app, fixture);
    await debit(app, fixture);
    // An hour later, the spend counts in both windows.
    now = new Date('2026-11-20T13:00:00.000Z');
    const { node } = await app.data(
      `query ($id: ID!) { node(id: $id) { ... on Wallet { spendProjection { last7Days { spend depletesAt } last30Days { spend depletesAt } } } } }`,
      { id: fixture.walletId },
      fixture.ownerToken,
    );
    // $0.0011 left at $0.0022 a week (3.5 days), or $0.0022 a month (15 days).
    expect(node.spendProjection).toEqual({
      last7Days: { spend: '0.0022', depletesAt: '2026-11-24T01:00:00.000Z' },
      last30Days: { spend: '0.0022', depletesAt: '2026-12-05T13:00:00.000Z' },
    });
  });
});
