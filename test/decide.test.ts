import { hashToken } from '../src/auth/tokens';
import { type AuthorizeRequest, DenialCode, type GatewayRequest, isKeyed, outcomeToJson, RoutingMode, TOKENS_ONLY } from '../src/gateway/contract';
import { awaitingTopUp, decide, toldOfTopUps } from '../src/gateway/decide';
import type { BatchReads, HoldRow, IdentityRow, KeyRow, LockedState, MeterTerms, RateWindow } from '../src/gateway/state';
import { batchCounters, copyDuplicates, gatewayRequestHash, lockTargets, triage, triageHolds } from '../src/gateway/triage';
import { BalanceOutOfRange, Guard, GuardRefusal, LedgerPlan, type LockedWallet } from '../src/ledger/plan';
import { KeyLimitPeriod, Period } from '../src/limits/periods';
import type { Counter } from '../src/limits/usage';
import type { TokenPrice } from '../src/pricing/cost';

/** The gateway's decision rules, decided in memory: no database, no server. */

const NOW = new Date('2026-11-25T12:00:30Z');
const NOW_SECOND = Math.floor(NOW.getTime() / 1000);
const SECRET = 'tg_decide';
const MODEL = 'gpt-test';
/** $3 per 1M input tokens, $15 per 1M output tokens. */
const PRICE: TokenPrice = { inputPrice: 3_000_000_000n, outputPrice: 15_000_000_000n };
/** 1,000 input and 500 output tokens at PRICE with a 10% markup: (3,000,000 + 7,500,000) × 1.1 nano-USD. */
const COST = 11_550_000n;
const ZERO: Counter = { cost: 0n, tokens: 0n, requests: 0n, heldCost: 0n, heldTokens: 0n };

interface World {
  key?: Partial<KeyRow>;
  wallet?: Partial<LockedWallet>;
  prices?: Record<string, TokenPrice>;
  identities?: IdentityRow[];
  /** Counters by `${subjectId}|${period}`; every other counter is zero. */
  counters?: Record<string, Partial<Counter>>;
  rateWindow?: Omit<RateWindow, 'limit'>;
  holds?: HoldRow[];
  seen?: Record<string, { request: GatewayRequest; answer: unknown }>;
  /** What the read found for the call's routing mode and organization; by default the key's workspace markup, no discount. */
  markupBps?: number;
  discountBps?: number;
  /** Meters the operator defined, with the workspace's allowance. */
  meters?: Record<string, MeterTerms>;
  /** This month's count of each meter so far. */
  meterCounts?: Record<string, bigint>;
}

function keyRow(over: Partial<KeyRow> = {}): KeyRow {
  return {
    id: 'key_1',
    organization_id: 'org_1',
    workspace_id: 'ws_1',
    wallet_id: 'wal_1',
    project_id: null,
    owner_member_id: 'mem_1',
    secret_hash: hashToken(SECRET),
    cost_limit: null,
    token_limit: null,
    limit_period: KeyLimitPeriod.DAILY,
    requests_per_minute: null,
    usable: true,
    markup_bps: 1000,
    project_budget: null,
    project_budget_period: null,
    past_due: false,
    ...over,
  };
}

function walletRow(over: Partial<LockedWallet> = {}): LockedWallet {
  return { id: 'wal_1', organizationId: 'org_1', balance: 100_000_000n, held: 0n, creditLimit: 0n, topUpThreshold: null, alertThreshold: null, ...over };
}

function holdRow(over: Partial<HoldRow> = {}): HoldRow {
  return {
    id: 'hold_1',
    organization_id: 'org_1',
    wallet_id: 'wal_1',
    api_key_id: 'key_1',
    identity_id: null,
    project_id: null,
    member_id: 'mem_1',
    model: MODEL,
    amount: String(COST),
    tokens: '1500',
    status: 'ACTIVE',
    created_at: new Date(NOW.getTime() - 60_000),
    expires_at: new Date(NOW.getTime() + 60_000),
    settle_request_hash: null,
    settle_response: null,
    routing_mode: RoutingMode.DIRECT,
    markup_bps: 1000,
    discount_bps: 0,
    input_price: String(PRICE.inputPrice),
    output_price: String(PRICE.outputPrice),
    cached_input_price: null,
    cache_write_price: null,
    reasoning_price: null,
    request_price: null,
    image_price: null,
    ...over,
  };
}

let sequence = 0;
const debit = (over: Partial<Extract<GatewayRequest, { kind: 'debit' }>> = {}): GatewayRequest => ({
  kind: 'debit',
  apiKey: SECRET,
  idempotencyKey: `k${++sequence}`,
  model: MODEL,
  identity: null,
  routingMode: RoutingMode.DIRECT,
  inputTokens: 1000n,
  outputTokens: 500n,
  ...TOKENS_ONLY,
  ...over,
});
const NO_MAXIMA = {
  maxCachedInputTokens: null,
  maxCacheWriteTokens: null,
  maxReasoningTokens: null,
  maxImages: null,
  maxProviderCost: null,
};
const authorize = (maxInputTokens: bigint | null, maxOutputTokens: bigint | null, over: Partial<AuthorizeRequest> = {}): GatewayRequest => ({
  kind: 'authorize',
  apiKey: SECRET,
  idempotencyKey: `k${++sequence}`,
  model: MODEL,
  identity: null,
  routingMode: RoutingMode.DIRECT,
  maxInputTokens,
  maxOutputTokens,
  ...NO_MAXIMA,
  ...over,
});

/** Read → triage → lock targets → decide, with the world standing in for what the database would hold. */
function run(requests: GatewayRequest[], world: World = {}) {
  const key = keyRow(world.key);
  const prices = world.prices ?? { [MODEL]: PRICE };
  const reads: BatchReads = { keys: new Map(), pricing: new Map(), meters: new Map(), seen: new Map(), identities: new Map() };
  for (const identity of world.identities ?? []) reads.identities.set(`${identity.workspace_id}|${identity.external_id}`, identity);
  requests.forEach((request, i) => {
    if (!isKeyed(request)) return;
    if (request.apiKey === SECRET) reads.keys.set(i, key);
    if (request.kind === 'meter') {
      reads.meters.set(i, world.meters?.[request.meter] ?? null);
    } else {
      const price = prices[request.model];
      reads.pricing.set(i, price ? { price, markupBps: world.markupBps ?? key.markup_bps, discountBps: world.discountBps ?? 0 } : null);
    }
    const seen = world.seen?.[request.idempotencyKey];
    reads.seen.set(i, seen ? { request_hash: gatewayRequestHash(seen.request, key.secret_hash), response: seen.answer } : null);
  });
  const sorted = triage(requests, reads);
  const holds = new Map((world.holds ?? []).map((hold) => [hold.id, hold]));
  triageHolds(requests, holds, sorted);
  const countersOf = batchCounters();
  const targets = lockTargets(requests, sorted.pending, reads, holds, NOW, countersOf);
  const counters = new Map(targets.counters.map((spec) => [spec.key, { ...ZERO, ...world.counters?.[`${spec.subjectId}|${spec.period}`] }]));
  const rateWindows = new Map(
    [...targets.rateLimited].map(([id, limit]) => [id, { limit, seconds: new Map(), used: 0, ...world.rateWindow }]),
  );
  const meterCounts = new Map(targets.meterCounts.map((spec) => [spec.key, world.meterCounts?.[spec.meter] ?? 0n]));
  const locked: LockedState = { holds, wallets: [walletRow(world.wallet)], counters, expiredHolds: [], rateWindows, meterCounts };
  const decisions = decide(requests, reads, sorted, locked, NOW, { holdTtlMs: 600_000 }, countersOf);
  copyDuplicates(sorted);
  return { ...decisions, codes: decisions.outcomes.map((outcome) => outcome.denial?.code ?? 'ALLOWED'), wallet: decisions.plan.account('wal_1') };
}

describe('a debit', () => {
  it('charges price × tokens with the markup as one DEDUCTION row, and answers the balance and limits left', () => {
    const { outcomes, plan, wallet } = run([debit()], { key: { cost_limit: '20000000' } });
    expect(outcomes[0]).toMatchObject({ allowed: true, cost: COST, charged: COST, availableBalance: 100_000_000n - COST });
    expect(outcomes[0].limits).toMatchObject({ costRemaining: 20_000_000n - COST, resetAt: new Date('2026-11-26T00:00:00Z') });
    expect(plan.rows).toEqual([
      expect.objectContaining({ id: outcomes[0].transactionId, amount: -COST, balanceAfter: 100_000_000n - COST, type: 'DEDUCTION', guard: Guard.AVAILABLE }),
    ]);
    expect(wallet.balance).toBe(100_000_000n - COST);
  });

  it("counts for the key's owner; a key without one counts for no member", () => {
    expect(run([debit()]).plan.rows[0].usage).toMatchObject({ apiKeyId: 'key_1', memberId: 'mem_1' });
    expect(run([debit()], { key: { owner_member_id: null } }).plan.rows[0].usage).toMatchObject({ apiKeyId: 'key_1', memberId: null });
  });

  it('is decided against the ones before it in the batch: a wallet funded for two refuses the third', () => {
    const { codes, refusedForCredits, wallet } = run([debit(), debit(), debit()], { wallet: { balance: 2n * COST } });
    expect(codes).toEqual(['ALLOWED', 'ALLOWED', DenialCode.INSUFFICIENT_CREDITS]);
    expect(refusedForCredits.get('wal_1')).toEqual([2]);
    expect(wallet.balance).toBe(0n);
  });

  it('may not spend what holds reserve', () => {
    expect(run([debit()], { wallet: { balance: COST, held: 1n } }).codes).toEqual([DenialCode.INSUFFICIENT_CREDITS]);
  });
});

describe('the denial precedence', () => {
  const identity: IdentityRow = { id: 'idn_1', workspace_id: 'ws_1', external_id: 'user', budget: '1', budget_period: Period.MONTHLY };
  /** A world in which every check denies; each step lifts the one that answered. */
  const steps: Array<[DenialCode, World]> = [
    [DenialCode.UNKNOWN_MODEL, { prices: {} }],
    [DenialCode.KEY_RATE_LIMITED, { rateWindow: { used: 5, seconds: new Map([[NOW_SECOND - 50, 5]]) } }],
    [DenialCode.KEY_COST_LIMIT_REACHED, { key: { cost_limit: '1' } }],
    [DenialCode.KEY_TOKEN_LIMIT_REACHED, { key: { token_limit: '1' } }],
    [DenialCode.IDENTITY_BUDGET_EXCEEDED, { identities: [identity] }],
    [DenialCode.PROJECT_BUDGET_EXCEEDED, { key: { project_id: 'prj_1', project_budget: '1', project_budget_period: Period.WEEKLY } }],
    [DenialCode.INSUFFICIENT_CREDITS, { wallet: { balance: 0n } }],
  ];
  const merge = (worlds: World[]): World =>
    worlds.reduce((all, world) => ({ ...all, ...world, key: { ...all.key, ...world.key, requests_per_minute: 5 } }), { key: { requests_per_minute: 5 } } as World);

  it('is one ordered list: the first check that denies answers', () => {
    const answered = steps.map((_, i) => {
      const world = merge(steps.slice(i).map(([, denying]) => denying));
      // The identity's budget only applies to a request that names the identity.
      return run([debit({ identity: 'user' })], { ...world, identities: world.identities ?? [{ ...identity, budget: null, budget_period: null }] }).codes[0];
    });
    expect(answered).toEqual(steps.map(([code]) => code));
    expect(run([debit({ identity: 'user' })], { identities: [{ ...identity, budget: null, budget_period: null }] }).codes).toEqual(['ALLOWED']);
  });

  it('a request past the rate check counts in the window even when a later check denies it', () => {
    const { codes, rateCounted } = run([debit(), debit()], { key: { requests_per_minute: 5 }, wallet: { balance: 0n } });
    expect(codes).toEqual([DenialCode.INSUFFICIENT_CREDITS, DenialCode.INSUFFICIENT_CREDITS]);
    expect(rateCounted.get('key_1')).toBe(2);
  });

  it('the rate limit says when the oldest second of the window slides out', () => {
    const { outcomes, rateCounted } = run([debit(), debit()], {
      key: { requests_per_minute: 3 },
      rateWindow: { used: 2, seconds: new Map([[NOW_SECOND - 50, 1], [NOW_SECOND - 5, 1]]) },
    });
    expect(outcomes.map((outcome) => outcome.denial?.code ?? 'ALLOWED')).toEqual(['ALLOWED', DenialCode.KEY_RATE_LIMITED]);
    expect(outcomes[1].denial?.retryAfterSeconds).toBe(10);
    expect(outcomes[0].limits?.requestsRemaining).toBe(0);
    expect(rateCounted.get('key_1')).toBe(1);
  });

  it('limits count what holds reserve', () => {
    const { codes } = run([debit()], { key: { cost_limit: String(COST) }, counters: { 'key_1|DAILY': { heldCost: 1n } } });
    expect(codes).toEqual([DenialCode.KEY_COST_LIMIT_REACHED]);
  });
});

describe('holds', () => {
  it('an authorization holds the worst case of its maxima, and a debit after it cannot spend that', () => {
    const { outcomes, wallet, newHolds, codes } = run([authorize(1000n, 500n), debit()], { wallet: { balance: COST + COST / 2n } });
    expect(outcomes[0].hold?.amount).toBe(COST);
    expect(newHolds[0]).toMatchObject({ amount: String(COST), tokens: '1500', expires_at: new Date(NOW.getTime() + 600_000).toISOString() });
    expect(codes).toEqual(['ALLOWED', DenialCode.INSUFFICIENT_CREDITS]);
    expect(wallet.held).toBe(COST);
  });

  it('an authorization without maxima holds nothing, but needs something available', () => {
    expect(run([authorize(null, null)], { wallet: { balance: 1n } }).outcomes[0]).toMatchObject({ allowed: true, hold: { amount: 0n } });
    expect(run([authorize(null, null)], { wallet: { balance: 1n, held: 1n } }).codes).toEqual([DenialCode.INSUFFICIENT_CREDITS]);
  });

  const capture = (inputTokens: bigint, outputTokens = 0n): GatewayRequest => ({ kind: 'capture', holdId: 'hold_1', inputTokens, outputTokens, ...TOKENS_ONLY });
  const release: GatewayRequest = { kind: 'release', holdId: 'hold_1' };

  it('a capture frees the hold and charges the call in full when the balance allows, even into other holds', () => {
    const { outcomes, wallet, plan, settledHolds } = run([capture(1000n, 500n)], { wallet: { balance: 2n * COST, held: 2n * COST }, holds: [holdRow()] });
    expect(outcomes[0]).toMatchObject({ allowed: true, cost: COST, charged: COST, availableBalance: COST - COST });
    expect(wallet.held).toBe(COST);
    expect(plan.rows[0]).toMatchObject({ guard: Guard.BALANCE, usage: expect.objectContaining({ holdId: 'hold_1', memberId: 'mem_1' }) });
    expect(settledHolds.get('hold_1')?.status).toBe('CAPTURED');
  });

  it('a capture of more than the balance charges what is there, and reports both', () => {
    const { outcomes, wallet } = run([capture(10_000_000n)], { wallet: { balance: COST, held: COST }, holds: [holdRow()] });
    expect(outcomes[0]).toMatchObject({ cost: 33_000_000_000n, charged: COST });
    expect(wallet.balance).toBe(0n);
  });

  it('settles once: the same capture again gets its answer, another is refused, a release after it is too', () => {
    const { codes, outcomes } = run([capture(1000n), capture(1000n), capture(2000n), release], { wallet: { held: COST }, holds: [holdRow()] });
    expect(codes).toEqual(['ALLOWED', 'ALLOWED', DenialCode.IDEMPOTENCY_KEY_REUSED, DenialCode.HOLD_NOT_ACTIVE]);
    expect(outcomes[1]).toBe(outcomes[0]);
  });

  it('a release frees the hold; released again, the same answer; captured after, refused', () => {
    const { codes, wallet } = run([release, release, capture(1n)], { wallet: { held: COST }, holds: [holdRow()] });
    expect(codes).toEqual(['ALLOWED', 'ALLOWED', DenialCode.HOLD_NOT_ACTIVE]);
    expect(wallet.held).toBe(0n);
  });

  it('an unknown hold needs no decision', () => {
    expect(run([release]).codes).toEqual([DenialCode.HOLD_NOT_FOUND]);
  });
});

describe('idempotency keys', () => {
  it('a retry of an answered request replays the answer, even from a key revoked since; another request under the key is refused', () => {
    const first = debit({ idempotencyKey: 'done' });
    const answer = outcomeToJson({ ...run([first]).outcomes[0] });
    const seen = { done: { request: first, answer } };
    expect(run([first], { seen, key: { usable: false } }).outcomes[0]).toMatchObject({ allowed: true, cost: COST });
    expect(run([debit({ idempotencyKey: 'done', inputTokens: 1n })], { seen }).codes).toEqual([DenialCode.IDEMPOTENCY_KEY_REUSED]);
    expect(run([debit()], { key: { usable: false } }).codes).toEqual([DenialCode.INVALID_API_KEY]);
    expect(run([debit({ apiKey: 'tg_unknown' })]).codes).toEqual([DenialCode.INVALID_API_KEY]);
  });

  it('copies within one batch follow the first: the same request its answer, another a refusal', () => {
    const { codes, outcomes, plan } = run([debit({ idempotencyKey: 'twice' }), debit({ idempotencyKey: 'twice' }), debit({ idempotencyKey: 'twice', outputTokens: 1n })]);
    expect(codes).toEqual(['ALLOWED', 'ALLOWED', DenialCode.IDEMPOTENCY_KEY_REUSED]);
    expect(outcomes[1]).toBe(outcomes[0]);
    expect(plan.rows).toHaveLength(1);
  });

  it('a maximum left out is another request than a maximum of 0', () => {
    const unset = authorize(null, null);
    expect(gatewayRequestHash(unset, 'h')).not.toBe(gatewayRequestHash({ ...unset, maxInputTokens: 0n, maxOutputTokens: 0n } as GatewayRequest, 'h'));
  });
});

describe('pricing a call', () => {
  /** $3 / $15 per 1M; cached input $0.30, reasoning $15; $0.001 a call; $0.04 an image. */
  const FULL: TokenPrice = { ...PRICE, cachedInputPrice: 300_000_000n, reasoningPrice: 15_000_000_000n, requestPrice: 1_000_000n, imagePrice: 40_000_000n };

  it('sums every component, with the markup of the routing mode, and the row shows the provider cost and the markup apart', () => {
    const request = debit({ routingMode: RoutingMode.AUTO, cachedInputTokens: 4000n, reasoningTokens: 100n, images: 1n });
    const { outcomes, plan } = run([request], { prices: { [MODEL]: FULL }, markupBps: 1000 });
    // 3,000,000 + 7,500,000 + 1,200,000 + 1,500,000 + 1,000,000 + 40,000,000 = 54,200,000; +10% = 59,620,000.
    expect(outcomes[0]).toMatchObject({ allowed: true, cost: 59_620_000n });
    expect(plan.rows[0].usage).toMatchObject({ routingMode: 'AUTO', providerCost: 54_200_000n, markup: 5_420_000n, providerReported: false, cachedInputTokens: 4000n, images: 1n });
  });

  it('takes a negotiated discount off the price', () => {
    // 10,500,000 less 20% = 8,400,000; +10% = 9,240,000.
    expect(run([debit()], { discountBps: 2000 }).outcomes[0].cost).toBe(9_240_000n);
  });

  it("a provider-reported cost is the cost, with the markup; the row says so", () => {
    const { outcomes, plan } = run([debit({ providerCost: 2_000_001n })], { markupBps: 800 });
    // 2,000,001 × 1.08 = 2,160,001.08: 2,160,001.
    expect(outcomes[0].cost).toBe(2_160_001n);
    expect(plan.rows[0].usage).toMatchObject({ providerCost: 2_000_001n, markup: 160_000n, providerReported: true });
  });

  it('a call with images on a model without an image price is refused, after an unknown model', () => {
    expect(run([debit({ images: 1n })]).codes).toEqual([DenialCode.UNPRICED_USAGE]);
    expect(run([debit({ images: 1n })], { prices: {} }).codes).toEqual([DenialCode.UNKNOWN_MODEL]);
  });

  it('an authorization holds the dearer of its maxima at the price and its maximum provider cost', () => {
    const byTokens = run([authorize(1000n, 500n, { maxProviderCost: 1_000_000n })]);
    expect(byTokens.outcomes[0].hold?.amount).toBe(COST);
    const byProvider = run([authorize(1000n, 500n, { maxProviderCost: 100_000_000n })], { wallet: { balance: 200_000_000n } });
    expect(byProvider.outcomes[0].hold?.amount).toBe(110_000_000n);
    expect(run([authorize(null, null, { maxImages: 2n })]).codes).toEqual([DenialCode.UNPRICED_USAGE]);
  });

  it("a capture is priced as its authorization was, and one cut short by the balance recovers the provider's cost first", () => {
    const hold = holdRow({ routing_mode: RoutingMode.TIER, markup_bps: 800, discount_bps: 1000, request_price: '1000000', amount: '0' });
    const capture: GatewayRequest = { kind: 'capture', holdId: 'hold_1', inputTokens: 1000n, outputTokens: 500n, ...TOKENS_ONLY };
    // (10,500,000 + 1,000,000) less 10% = 10,350,000; +8% = 11,178,000.
    const full = run([capture], { holds: [hold] });
    expect(full.outcomes[0]).toMatchObject({ cost: 11_178_000n, charged: 11_178_000n });
    expect(full.plan.rows[0].usage).toMatchObject({ routingMode: 'TIER', providerCost: 10_350_000n, markup: 828_000n });
    const short = run([capture], { holds: [hold], wallet: { balance: 10_400_000n } });
    expect(short.outcomes[0]).toMatchObject({ cost: 11_178_000n, charged: 10_400_000n });
    expect(short.plan.rows[0].usage).toMatchObject({ providerCost: 10_350_000n, markup: 50_000n });
    const images: GatewayRequest = { ...capture, images: 1n };
    expect(run([images], { holds: [hold] }).codes).toEqual([DenialCode.UNPRICED_USAGE]);
  });
});

describe('metered extras', () => {
  /** $0.0005 a trace, 1,000 included a month. */
  const TRACE: MeterTerms = { unitPrice: 500_000n, included: 1000n };
  const report = (quantity: bigint, over: Partial<Extract<GatewayRequest, { kind: 'meter' }>> = {}): GatewayRequest => ({
    kind: 'meter',
    apiKey: SECRET,
    idempotencyKey: `k${++sequence}`,
    meter: 'trace',
    quantity,
    identity: null,
    ...over,
  });

  it('charges only the units beyond the allowance, once, as METERED rows of the units each report billed', () => {
    const world: World = { meters: { trace: TRACE }, meterCounts: { trace: 100n }, wallet: { balance: 1_000_000_000n } };
    const { outcomes, plan, meterCounts } = run([report(600n), report(600n), report(50n)], world);
    expect(outcomes.map((outcome) => [outcome.cost, outcome.metered])).toEqual([
      [0n, { billedQuantity: 0n, includedRemaining: 300n }],
      [300n * 500_000n, { billedQuantity: 300n, includedRemaining: 0n }],
      [50n * 500_000n, { billedQuantity: 50n, includedRemaining: 0n }],
    ]);
    expect(outcomes[0].transactionId).toBeNull();
    expect(plan.rows.map((row) => [row.type, row.amount, row.balanceAfter, row.metered?.quantity, row.id])).toEqual([
      ['METERED', -150_000_000n, 850_000_000n, 300n, outcomes[1].transactionId],
      ['METERED', -25_000_000n, 825_000_000n, 50n, outcomes[2].transactionId],
    ]);
    expect([...meterCounts.values()]).toEqual([{ quantity: 100n, added: 1250n, billed: 350n, cost: 175_000_000n }]);
  });

  it('counts against cost limits and credits; a refused report counts nothing; no rate window, no tokens', () => {
    const limited = run([report(1001n), report(1n)], { meters: { trace: TRACE }, key: { cost_limit: '500000', requests_per_minute: 1 } });
    expect(limited.codes).toEqual(['ALLOWED', DenialCode.KEY_COST_LIMIT_REACHED]);
    expect(limited.rateCounted.size).toBe(0);
    expect([...limited.counters.values()].find((tally) => tally.changed)?.change).toEqual({ ...ZERO, cost: 500_000n });
    const broke = run([report(2000n)], { meters: { trace: TRACE }, wallet: { balance: 499_999_999n } });
    expect(broke.codes).toEqual([DenialCode.INSUFFICIENT_CREDITS]);
    expect([...broke.meterCounts.values()][0].added).toBe(0n);
  });

  it('an unknown meter is refused before anything else', () => {
    expect(run([report(1n, { meter: 'nope' })], { meters: { trace: TRACE }, wallet: { balance: 0n } }).codes).toEqual([DenialCode.UNKNOWN_METER]);
  });

  it('is refused while an invoice is past due; it may spend the credit line', () => {
    expect(run([report(1n)], { meters: { trace: { unitPrice: 1n, included: 0n } }, key: { past_due: true } }).codes).toEqual([DenialCode.INVOICE_PAST_DUE]);
    const onCredit = run([report(2n), report(1n)], { meters: { trace: { unitPrice: 1n, included: 0n } }, wallet: { balance: 0n, creditLimit: 2n } });
    expect(onCredit.codes).toEqual(['ALLOWED', DenialCode.INSUFFICIENT_CREDITS]);
    expect(onCredit.wallet.balance).toBe(-2n);
  });
});

describe('a credit line (enterprise accounts)', () => {
  it('debits down to exactly minus the limit, then INSUFFICIENT_CREDITS; the available balance counts the line', () => {
    const decisions = run([debit(), debit(), debit()], { wallet: { balance: COST, creditLimit: COST } });
    expect(decisions.codes).toEqual(['ALLOWED', 'ALLOWED', DenialCode.INSUFFICIENT_CREDITS]);
    expect(decisions.outcomes.map((outcome) => outcome.availableBalance)).toEqual([COST, 0n, null]);
    expect(decisions.plan.account('wal_1').balance).toBe(-COST);
  });

  it('a capture beyond the hold charges down to minus the limit, never below', () => {
    const capture: GatewayRequest = { kind: 'capture', holdId: 'hold_1', inputTokens: 3000n, outputTokens: 1500n, ...TOKENS_ONLY };
    const decisions = run([capture], { holds: [holdRow()], wallet: { balance: 0n, held: COST, creditLimit: 2n * COST } });
    expect(decisions.outcomes[0]).toMatchObject({ allowed: true, cost: 3n * COST, charged: 2n * COST, availableBalance: 0n });
    expect(decisions.plan.account('wal_1').balance).toBe(-2n * COST);
  });
});

describe('an invoice past due', () => {
  it('refuses debits and authorizations with INVOICE_PAST_DUE 402, after the request\'s own mistakes and before the rate window counts it; captures and releases go through', () => {
    const key = { past_due: true, requests_per_minute: 10 };
    const decisions = run([debit(), authorize(1000n, 500n), debit({ model: 'unpriced' })], { key, rateWindow: { seconds: new Map(), used: 0 } });
    expect(decisions.codes).toEqual([DenialCode.INVOICE_PAST_DUE, DenialCode.INVOICE_PAST_DUE, DenialCode.UNKNOWN_MODEL]);
    expect(decisions.outcomes[0].denial).toMatchObject({ httpStatus: 402, message: 'An invoice is past due. Please pay it to continue.' });
    expect(decisions.rateCounted.size).toBe(0);
    const capture: GatewayRequest = { kind: 'capture', holdId: 'hold_1', inputTokens: 1000n, outputTokens: 500n, ...TOKENS_ONLY };
    const release: GatewayRequest = { kind: 'release', holdId: 'hold_2' };
    expect(run([capture, release], { key, holds: [holdRow(), holdRow({ id: 'hold_2' })] }).codes).toEqual(['ALLOWED', 'ALLOWED']);
  });
});

describe('auto top-up', () => {
  it('a refusal for credits below the threshold waits for a top-up under way, and is told when to retry', () => {
    const decisions = run([debit(), debit()], { wallet: { balance: COST, topUpThreshold: 2n * COST } });
    expect(decisions.codes).toEqual(['ALLOWED', DenialCode.INSUFFICIENT_CREDITS]);
    expect(awaitingTopUp(decisions)).toEqual(['wal_1']);
    expect(decisions.plan.belowTopUpThreshold()).toEqual(['wal_1']);
    toldOfTopUps(decisions, ['wal_1']);
    expect(decisions.outcomes[1].denial).toMatchObject({ code: DenialCode.INSUFFICIENT_CREDITS, retryAfterSeconds: 5 });
  });
});

describe('the guard rule of the ledger', () => {
  const plan = () => new LedgerPlan([walletRow({ balance: 10n, held: 4n })]);
  const entry = (amount: bigint, guard?: Guard) => ({ walletId: 'wal_1', type: 'MANUAL' as never, amount, description: 'd', actor: 'a', guard });

  it('a debit spends the balance less holds; a capture the balance; a refund may overdraw; a credit always goes', () => {
    expect(() => plan().post(entry(-7n))).toThrow(GuardRefusal);
    expect(plan().post(entry(-6n)).balanceAfter).toBe(4n);
    expect(() => plan().post(entry(-11n, Guard.BALANCE))).toThrow(GuardRefusal);
    expect(plan().post(entry(-10n, Guard.BALANCE)).balanceAfter).toBe(0n);
    expect(plan().post(entry(-25n, Guard.OVERDRAW)).balanceAfter).toBe(-15n);
    expect(plan().post(entry(5n)).balanceAfter).toBe(15n);
  });

  it('a credit line counts as balance: a debit down to minus the limit (less holds), a capture to minus the limit, a refund below', () => {
    const withCredit = () => new LedgerPlan([walletRow({ balance: 10n, held: 4n, creditLimit: 20n })]);
    expect(withCredit().account('wal_1').available).toBe(26n);
    expect(() => withCredit().post(entry(-27n))).toThrow(GuardRefusal);
    expect(withCredit().post(entry(-26n)).balanceAfter).toBe(-16n);
    expect(() => withCredit().post(entry(-31n, Guard.BALANCE))).toThrow(GuardRefusal);
    expect(withCredit().post(entry(-30n, Guard.BALANCE)).balanceAfter).toBe(-20n);
    expect(withCredit().post(entry(-45n, Guard.OVERDRAW)).balanceAfter).toBe(-35n);
  });

  it('rows follow each other: each balance after counts the ones before, and a refused row leaves the plan as it was', () => {
    const posting = plan();
    posting.post(entry(-3n));
    expect(() => posting.post(entry(-4n))).toThrow(GuardRefusal);
    expect(posting.post(entry(-3n)).balanceAfter).toBe(4n);
    expect(posting.rows.map((row) => row.balanceAfter)).toEqual([7n, 4n]);
  });

  it('a balance beyond the column is refused', () => {
    expect(() => plan().post(entry(2n ** 63n - 5n))).toThrow(BalanceOutOfRange);
  });
});
