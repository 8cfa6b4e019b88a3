import { formatMoney } from '../src/money';
import { GATEWAY_TOKEN, useTestApp } from './support/app';
import { authorize, COST_OF_1000_INPUT, createApiKey, DEBIT, debit, gatewaySetup, requestKey, walletState } from './support/gateway';

/** The server's clock, moved by the tests: no sleeps. */
let now = new Date('2026-03-04T12:00:00.000Z');
const HOLD_TTL_MS = 10 * 60 * 1000;
const app = useTestApp({ clock: () => now, holdTtlMs: HOLD_TTL_MS });

const at = (iso: string) => {
  now = new Date(iso);
};
const later = (ms: number) => {
  now = new Date(now.getTime() + ms);
};

describe('requests per minute over a rolling 60-second window', () => {
  it('allows exactly the limit inside 60 s, and again after the window slides', async () => {
    at('2026-03-04T12:00:00.500Z');
    const fixture = await gatewaySetup(app, '100', { requestsPerMinute: 50 });
    const burst = async (count: number) => {
      const results = await Promise.all(
        Array.from({ length: count }, () =>
          app.data(DEBIT, { input: { apiKey: fixture.secret, model: fixture.model, idempotencyKey: requestKey(), inputTokens: 10, outputTokens: 0 } }, GATEWAY_TOKEN),
        ),
      );
      return results.map((result) => result.gatewayDebit);
    };
    expect((await burst(200)).filter((answer) => answer.allowed)).toHaveLength(50);

    later(30_000);
    const halfway = await debit(app, fixture);
    expect(halfway.denial).toMatchObject({ code: 'KEY_RATE_LIMITED', retryAfterSeconds: 30 });

    later(29_000); // 59.5 s after the burst: still inside the window
    expect((await debit(app, fixture)).denial.code).toBe('KEY_RATE_LIMITED');

    later(1_000); // 60.5 s: the burst's second has slid out
    expect((await burst(80)).filter((answer) => answer.allowed)).toHaveLength(50);
  });
});

describe('an API key with an expiry', () => {
  it('is INVALID_API_KEY from that instant on', async () => {
    at('2026-03-04T12:00:00.000Z');
    const fixture = await gatewaySetup(app, '1');
    const expiring = await createApiKey(app, fixture.ownerToken, fixture.workspaceId, { expiresAt: '2026-03-04T12:00:01.500Z' });
    const withExpiring = { ...fixture, secret: expiring.secret };
    later(1499);
    expect((await debit(app, withExpiring)).allowed).toBe(true);
    later(1);
    expect((await debit(app, withExpiring)).denial).toMatchObject({ code: 'INVALID_API_KEY', httpStatus: 401 });
  });
});

describe('limit periods reset on UTC calendar boundaries', () => {
  const cost = formatMoney(COST_OF_1000_INPUT);

  it.each([
    ['DAILY', '2026-03-04T23:59:59.999Z', '2026-03-05T00:00:00.000Z'],
    ['WEEKLY', '2026-03-08T23:59:59.999Z', '2026-03-09T00:00:00.000Z'], // Sunday → Monday
    ['MONTHLY', '2026-03-31T23:59:59.999Z', '2026-04-01T00:00:00.000Z'],
  ])("a key's %s cost limit", async (period, before, after) => {
    at(before);
    const fixture = await gatewaySetup(app, '1', { budget: { amount: cost, period } });
    const spent = await debit(app, fixture);
    expect(spent).toMatchObject({ allowed: true, limits: { costRemaining: '0', resetAt: new Date(after).toISOString() } });
    expect((await debit(app, fixture)).denial.code).toBe('KEY_COST_LIMIT_REACHED');
    at(after);
    expect((await debit(app, fixture)).allowed).toBe(true);
  });

  it.each([
    ['DAILY', '2026-06-01T23:59:59.999Z', '2026-06-02T00:00:00.000Z'],
    ['WEEKLY', '2026-06-07T23:59:59.999Z', '2026-06-08T00:00:00.000Z'],
    ['MONTHLY', '2026-06-30T23:59:59.999Z', '2026-07-01T00:00:00.000Z'],
    ['YEARLY', '2026-12-31T23:59:59.999Z', '2027-01-01T00:00:00.000Z'],
  ])("an identity's %s budget", async (period, before, after) => {
    at(before);
    const fixture = await gatewaySetup(app, '1');
    await app.data(
      `mutation ($input: IdentityUpsertInput!) { identityUpsert(input: $input) { userErrors { code } } }`,
      { input: { workspaceId: fixture.workspaceId, externalId: 'carol', budget: { amount: cost, period } } },
      fixture.ownerToken,
    );
    expect((await debit(app, fixture, { identity: 'carol' })).allowed).toBe(true);
    expect((await debit(app, fixture, { identity: 'carol' })).denial.code).toBe('IDENTITY_BUDGET_EXCEEDED');
    at(after);
    expect((await debit(app, fixture, { identity: 'carol' })).allowed).toBe(true);
  });
});

describe('hold expiry', () => {
  it('frees an expired hold at once, and a late capture still charges the call', async () => {
    at('2026-05-05T10:00:00.000Z');
    const fixture = await gatewaySetup(app, '0.0011');
    const held = await authorize(app, fixture, { maxInputTokens: 1000 });
    expect(held).toMatchObject({ allowed: true, availableBalance: '0', hold: { expiresAt: '2026-05-05T10:10:00.000Z' } });
    later(HOLD_TTL_MS - 1);
    expect((await debit(app, fixture)).denial.code).toBe('INSUFFICIENT_CREDITS');
    later(1);
    expect(await debit(app, fixture, { inputTokens: 500 })).toMatchObject({ allowed: true, availableBalance: '0.00055' });
    expect(await walletState(app, fixture.walletId)).toMatchObject({ held: 0n, balance: 550_000n });
    const captured = await app.data(
      `mutation ($input: GatewayCaptureInput!) { gatewayCapture(input: $input) { allowed cost charged availableBalance } }`,
      { input: { holdId: held.hold.id, inputTokens: 1000, outputTokens: 0 } },
      GATEWAY_TOKEN,
    );
    expect(captured.gatewayCapture).toEqual({ allowed: true, cost: '0.0011', charged: '0.00055', availableBalance: '0' });
    expect(await walletState(app, fixture.walletId)).toEqual({ balance: 0n, held: 0n, sum: 0n, deductions: 2 });
  });
});
