import { bigintOrNull } from '../db/recordset';
import { TransactionType } from '../../entities';
import { newId } from '../ids';
import { Guard, LedgerPlan, type WalletAccount } from '../ledger/plan';
import { type KeyLimitPeriod, type Period, periodEnd, periodStart } from '../limits/periods';
import { CounterTally, counterKey, remaining } from '../limits/usage';
import { type CallPricing, type Charge, chargeOfUsage, tokensOf } from '../pricing/cost';
import { holdPricing, pricingOfHold, worstCase, worstUsage } from './call-pricing';
import {
  type CaptureRequest,
  DenialCode,
  denied,
  emptyOutcome,
  type GatewayOutcome,
  type GatewayRequest,
  type KeyedRequest,
  type KeyLimits,
  type MeterRequest,
  outcomeFromJson,
  type ReleaseRequest,
  type ReportedUsage,
  type RoutingMode,
  TOP_UP_RETRY_AFTER_SECONDS,
} from './contract';
import { RATE_WINDOW_SECONDS } from './lock';
import type { BatchReads, BatchSettings, HoldRow, IdentityRow, KeyRow, LockedState, MeterTally, MeterTerms, RateWindow, Subjects, Triage } from './state';
import { type CountersOf, gatewayRequestHash, identityOf, meterCountOf, subjectsOf } from './triage';

/** A hold this batch creates, as its row is written (timestamps as ISO text). */
export type NewHold = Omit<HoldRow, 'member_id' | 'status' | 'created_at' | 'expires_at' | 'settle_request_hash' | 'settle_response'> & {
  created_at: string;
  expires_at: string;
};

export interface SettledHold {
  status: 'CAPTURED' | 'RELEASED';
  hash: string;
  response: GatewayOutcome;
}

/** What the batch decided: the answers, and every change to write (the ledger's in `plan`). */
export interface Decisions {
  outcomes: GatewayOutcome[];
  plan: LedgerPlan;
  counters: Map<string, CounterTally>;
  /** Requests counted in each rate-limited key's window, by key id. */
  rateCounted: Map<string, number>;
  newHolds: NewHold[];
  settledHolds: Map<string, SettledHold>;
  /** Requests refused for lack of credits, by wallet. */
  refusedForCredits: Map<string, number[]>;
  /** The month counts of meters, by their key (`meterCountOf`). */
  meterCounts: Map<string, MeterTally>;
}

/** A keyed request as the checks see it. */
interface Candidate {
  request: KeyedRequest;
  key: KeyRow;
  pricing: CallPricing | null;
  /** Null when the price lacks a component the call used. */
  charge: Charge | null;
  window: RateWindow | undefined;
  cost: bigint;
  tokens: bigint;
  /** An authorization with nothing to reserve still needs something left. */
  reserveNothing: boolean;
  identity: IdentityRow | null;
  /** A meter report's terms: null when the meter is not defined; model calls have none. */
  meterTerms?: MeterTerms | null;
  account: WalletAccount;
  counter(subjectId: string, period: Period | KeyLimitPeriod): CounterTally;
  countInWindow(): void;
}

/** Whether `amount` more fits under `limit` given what is `used`. */
function exceeds(used: bigint, amount: bigint, limit: bigint | null, reserveNothing: boolean): boolean {
  if (limit === null) return false;
  return reserveNothing ? used >= limit : used + amount > limit;
}

interface DenialCheck {
  code: DenialCode;
  denies(c: Candidate): boolean;
  passed?(c: Candidate): void;
  /** Checked for a meter report too (else for model calls only). */
  meters?: true;
}

/**
 * The denial precedence of a debit or authorization (DESIGN §6), first to last: the first check
 * that denies answers. A request that gets past the rate check counts in the key's window even
 * when a later check denies it. A meter report is not a model request: it is checked for what it
 * spends only.
 */
const DENIAL_CHECKS: ReadonlyArray<DenialCheck> = [
  { code: DenialCode.UNKNOWN_MODEL, denies: (c) => c.pricing === null },
  { code: DenialCode.UNPRICED_USAGE, denies: (c) => c.charge === null },
  { code: DenialCode.UNKNOWN_METER, denies: (c) => c.meterTerms === null, meters: true },
  // An account matter, after the request's own mistakes and before anything counts it.
  { code: DenialCode.INVOICE_PAST_DUE, denies: (c) => c.key.past_due, meters: true },
  {
    code: DenialCode.KEY_RATE_LIMITED,
    denies: (c) => c.window !== undefined && c.window.used >= c.window.limit,
    passed: (c) => c.countInWindow(),
  },
  {
    code: DenialCode.KEY_COST_LIMIT_REACHED,
    denies: (c) => exceeds(c.counter(c.key.id, c.key.limit_period).usedCost, c.cost, bigintOrNull(c.key.cost_limit), c.reserveNothing),
    meters: true,
  },
  {
    code: DenialCode.KEY_TOKEN_LIMIT_REACHED,
    denies: (c) =>
      exceeds(c.counter(c.key.id, c.key.limit_period).usedTokens, c.tokens, bigintOrNull(c.key.token_limit), c.request.kind === 'authorize' && c.tokens === 0n),
  },
  {
    code: DenialCode.IDENTITY_BUDGET_EXCEEDED,
    denies: (c) =>
      c.identity?.budget_period != null && exceeds(c.counter(c.identity.id, c.identity.budget_period).usedCost, c.cost, bigintOrNull(c.identity.budget), c.reserveNothing),
    meters: true,
  },
  {
    code: DenialCode.PROJECT_BUDGET_EXCEEDED,
    denies: (c) =>
      c.key.project_id !== null &&
      c.key.project_budget_period !== null &&
      exceeds(c.counter(c.key.project_id, c.key.project_budget_period).usedCost, c.cost, bigintOrNull(c.key.project_budget), c.reserveNothing),
    meters: true,
  },
  { code: DenialCode.INSUFFICIENT_CREDITS, denies: (c) => (c.reserveNothing ? c.account.available <= 0n : !c.account.covers(c.cost)), meters: true },
];

const METER_CHECKS = DENIAL_CHECKS.filter((check) => check.meters);

/** How far `quantity` goes beyond `bound`, 0 when it does not: units beyond the allowance, or what is left of it. */
const beyond = (quantity: bigint, bound: bigint) => (quantity > bound ? quantity - bound : 0n);

/**
 * Decides every pending request of a batch, in arrival order, against the state its transaction
 * locked; no I/O. Each decision sees the changes of the ones before it.
 */
export function decide(
  requests: GatewayRequest[],
  reads: BatchReads,
  triage: Triage,
  locked: LockedState,
  now: Date,
  settings: Pick<BatchSettings, 'holdTtlMs'>,
  countersOf: CountersOf,
): Decisions {
  const decisions: Decisions = {
    outcomes: triage.outcomes,
    plan: new LedgerPlan(locked.wallets),
    counters: new Map([...locked.counters].map(([key, counter]) => [key, new CounterTally(counter)])),
    rateCounted: new Map(),
    newHolds: [],
    settledHolds: new Map(),
    refusedForCredits: new Map(),
    meterCounts: new Map([...locked.meterCounts].map(([key, quantity]) => [key, { quantity, added: 0n, billed: 0n, cost: 0n }])),
  };
  const nowSecond = Math.floor(now.getTime() / 1000);
  // Period bounds are asked for on every request with the same few arguments.
  const bounds = new Map<string, { start: Date; end: Date }>();
  const periodOf = (period: Period | KeyLimitPeriod, at: Date) => {
    const id = `${period}|${at.getTime()}`;
    let found = bounds.get(id);
    if (!found) bounds.set(id, (found = { start: periodStart(period, at), end: periodEnd(period, at) }));
    return found;
  };
  const counter = (subjectId: string, period: Period | KeyLimitPeriod, at: Date) => decisions.counters.get(counterKey(subjectId, period, periodOf(period, at).start))!;
  const addToCounters = (subjects: Subjects, at: Date, change: Parameters<CounterTally['add']>[0]) => {
    for (const spec of countersOf(subjects, at)) decisions.counters.get(spec.key)!.add(change);
  };
  const windows = new Map([...locked.rateWindows].map(([id, window]) => [id, { ...window }]));

  for (const hold of locked.expiredHolds) {
    decisions.plan.hold(hold.wallet_id, -BigInt(hold.amount));
    addToCounters({ keyId: hold.api_key_id, identityId: hold.identity_id, projectId: hold.project_id }, hold.created_at, {
      heldCost: -BigInt(hold.amount),
      heldTokens: -BigInt(hold.tokens),
    });
  }

  /**
   * Debits what a call was charged, as a DEDUCTION row with its usage; nothing to record for 0.
   * A charge cut short by the balance (a capture) recovers the provider's cost first.
   */
  const post = (
    call: { walletId: string; memberId: string | null; model: string; routingMode: RoutingMode; idempotencyKey: string | null; holdId: string | null },
    subjects: Subjects,
    usage: ReportedUsage,
    charge: Charge,
    charged: bigint,
  ) => {
    if (charged === 0n) return null;
    const providerCost = charge.providerCost < charged ? charge.providerCost : charged;
    return decisions.plan.post({
      walletId: call.walletId,
      type: TransactionType.DEDUCTION,
      amount: -charged,
      description: `Usage: ${call.model}`,
      actor: 'gateway',
      idempotencyKey: call.idempotencyKey,
      guard: call.holdId ? Guard.BALANCE : Guard.AVAILABLE,
      usage: {
        apiKeyId: subjects.keyId,
        identityId: subjects.identityId,
        projectId: subjects.projectId,
        memberId: call.memberId,
        model: call.model,
        routingMode: call.routingMode,
        holdId: call.holdId,
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        cachedInputTokens: usage.cachedInputTokens,
        cacheWriteTokens: usage.cacheWriteTokens,
        reasoningTokens: usage.reasoningTokens,
        images: usage.images,
        providerCost,
        markup: charged - providerCost,
        providerReported: usage.providerCost !== null,
      },
    }).id;
  };

  const releaseHeld = (hold: HoldRow, index: number) => {
    const { subjects, at } = subjectsOf(requests[index], index, reads, locked.holds, now);
    decisions.plan.hold(hold.wallet_id, -BigInt(hold.amount));
    addToCounters(subjects, at, { heldCost: -BigInt(hold.amount), heldTokens: -BigInt(hold.tokens) });
  };

  /** The hold's state as this batch has left it so far. */
  const settledState = (hold: HoldRow): { status: HoldRow['status']; hash: string | null; response: GatewayOutcome } =>
    decisions.settledHolds.get(hold.id) ?? {
      status: hold.status,
      hash: hold.settle_request_hash,
      response: hold.settle_response ? outcomeFromJson(hold.settle_response) : emptyOutcome(),
    };

  const limitsOf = (key: KeyRow, window: RateWindow | undefined): KeyLimits => {
    const keyCounter = counter(key.id, key.limit_period, now);
    return {
      costRemaining: remaining(bigintOrNull(key.cost_limit), keyCounter.usedCost),
      tokensRemaining: remaining(bigintOrNull(key.token_limit), keyCounter.usedTokens),
      requestsRemaining: window ? Math.max(0, window.limit - window.used) : null,
      resetAt: periodOf(key.limit_period, now).end,
    };
  };

  /** The answer of the first of `checks` that denies the candidate, if one does. */
  const firstDenial = (checks: ReadonlyArray<DenialCheck>, candidate: Candidate, index: number): GatewayOutcome | null => {
    for (const check of checks) {
      if (check.denies(candidate)) {
        if (check.code === DenialCode.KEY_RATE_LIMITED) return denied(check.code, retryAfter(candidate.window!, nowSecond));
        if (check.code === DenialCode.INSUFFICIENT_CREDITS) {
          const refused = decisions.refusedForCredits.get(candidate.key.wallet_id) ?? [];
          decisions.refusedForCredits.set(candidate.key.wallet_id, [...refused, index]);
        }
        return denied(check.code);
      }
      check.passed?.(candidate);
    }
    return null;
  };

  const decideKeyed = (request: Exclude<KeyedRequest, MeterRequest>, index: number): GatewayOutcome => {
    const key = reads.keys.get(index)!;
    const pricing = reads.pricing.get(index) ?? null;
    const authorizing = request.kind === 'authorize';
    const usage = authorizing ? worstUsage(request) : request;
    const charge = pricing && (authorizing ? worstCase(request, pricing) : chargeOfUsage(request, pricing));
    const cost = charge?.cost ?? 0n;
    const candidate: Candidate = {
      request,
      key,
      pricing,
      charge,
      window: windows.get(key.id),
      cost,
      tokens: tokensOf(usage),
      reserveNothing: authorizing && cost === 0n,
      identity: identityOf(reads, request.identity, key),
      account: decisions.plan.account(key.wallet_id),
      counter: (subjectId, period) => counter(subjectId, period, now),
      countInWindow() {
        if (!this.window) return;
        this.window.used += 1;
        decisions.rateCounted.set(key.id, (decisions.rateCounted.get(key.id) ?? 0) + 1);
      },
    };
    const refusal = firstDenial(DENIAL_CHECKS, candidate, index);
    if (refusal) return refusal;

    const subjects: Subjects = { keyId: key.id, identityId: candidate.identity?.id ?? null, projectId: key.project_id };
    const outcome: GatewayOutcome = { ...emptyOutcome(), allowed: true };
    if (authorizing) {
      decisions.plan.hold(key.wallet_id, cost);
      addToCounters(subjects, now, { heldCost: cost, heldTokens: candidate.tokens, requests: 1n });
      const hold = { id: newId('hold'), amount: cost, expiresAt: new Date(now.getTime() + settings.holdTtlMs) };
      decisions.newHolds.push({
        id: hold.id,
        organization_id: key.organization_id,
        wallet_id: key.wallet_id,
        api_key_id: key.id,
        identity_id: subjects.identityId,
        project_id: key.project_id,
        model: request.model,
        ...holdPricing(request.routingMode, pricing!),
        amount: String(cost),
        tokens: String(candidate.tokens),
        created_at: now.toISOString(),
        expires_at: hold.expiresAt.toISOString(),
      });
      outcome.hold = hold;
    } else {
      addToCounters(subjects, now, { cost, tokens: candidate.tokens, requests: 1n });
      outcome.cost = cost;
      outcome.charged = cost;
      outcome.transactionId = post(
        { walletId: key.wallet_id, memberId: key.owner_member_id, model: request.model, routingMode: request.routingMode, idempotencyKey: request.idempotencyKey, holdId: null },
        subjects,
        request,
        charge!,
        cost,
      );
    }
    outcome.availableBalance = candidate.account.available;
    outcome.limits = limitsOf(key, candidate.window);
    return outcome;
  };

  const capture = (request: CaptureRequest, index: number): GatewayOutcome => {
    const hold = locked.holds.get(request.holdId)!;
    const hash = gatewayRequestHash(request);
    const settled = settledState(hold);
    if (settled.status === 'RELEASED') return settled.hash === hash ? settled.response : denied(DenialCode.HOLD_NOT_ACTIVE);
    if (settled.status === 'CAPTURED') return settled.hash === hash ? settled.response : denied(DenialCode.IDEMPOTENCY_KEY_REUSED);
    const charge = chargeOfUsage(request, pricingOfHold(hold));
    // Changes nothing: the gateway may capture it again with usage the price covers, or release it.
    if (!charge) return denied(DenialCode.UNPRICED_USAGE);
    const account = decisions.plan.account(hold.wallet_id);
    if (settled.status === 'ACTIVE') releaseHeld(hold, index);
    const { cost } = charge;
    // The call has happened: charge it in full when the balance (and the credit line) allows,
    // else what is there (DESIGN §6: up to the wallet's balance, even into what other holds reserve).
    const most = account.chargeable;
    const charged = cost <= most ? cost : most > 0n ? most : 0n;
    const { subjects, at } = subjectsOf(request, index, reads, locked.holds, now);
    addToCounters(subjects, at, { cost: charged, tokens: tokensOf(request) });
    const outcome: GatewayOutcome = {
      ...emptyOutcome(),
      allowed: true,
      cost,
      charged,
      hold: { id: hold.id, amount: BigInt(hold.amount), expiresAt: hold.expires_at },
      transactionId: post(
        { walletId: hold.wallet_id, memberId: hold.member_id, model: hold.model, routingMode: hold.routing_mode, idempotencyKey: null, holdId: hold.id },
        subjects,
        request,
        charge,
        charged,
      ),
      availableBalance: account.available,
    };
    decisions.settledHolds.set(hold.id, { status: 'CAPTURED', hash, response: outcome });
    return outcome;
  };

  /**
   * A meter report counts its units against the workspace's allowance for the month; those
   * beyond it are charged at the unit price (no markup: the price is the operator's), as one
   * METERED row. A report that is refused counts nothing.
   */
  const meter = (request: MeterRequest, index: number): GatewayOutcome => {
    const key = reads.keys.get(index)!;
    const terms = reads.meters.get(index)!;
    const tally = terms ? decisions.meterCounts.get(meterCountOf(key.workspace_id, request.meter, now).key)! : null;
    const used = tally ? tally.quantity + tally.added : 0n;
    const billed = terms ? beyond(used + request.quantity, terms.included) - beyond(used, terms.included) : 0n;
    const cost = terms ? billed * terms.unitPrice : 0n;
    const candidate: Candidate = {
      request,
      key,
      pricing: null,
      charge: null,
      window: undefined,
      cost,
      tokens: 0n,
      reserveNothing: false,
      identity: identityOf(reads, request.identity, key),
      meterTerms: terms,
      account: decisions.plan.account(key.wallet_id),
      counter: (subjectId, period) => counter(subjectId, period, now),
      countInWindow() {},
    };
    const refusal = firstDenial(METER_CHECKS, candidate, index);
    if (refusal) return refusal;

    tally!.added += request.quantity;
    tally!.billed += billed;
    tally!.cost += cost;
    const subjects: Subjects = { keyId: key.id, identityId: candidate.identity?.id ?? null, projectId: key.project_id };
    addToCounters(subjects, now, { cost });
    const outcome: GatewayOutcome = { ...emptyOutcome(), allowed: true, cost, charged: cost };
    if (cost > 0n) {
      outcome.transactionId = decisions.plan.post({
        walletId: key.wallet_id,
        type: TransactionType.METERED,
        amount: -cost,
        description: `Metered: ${request.meter}, ${billed} beyond the monthly allowance`,
        actor: 'gateway',
        idempotencyKey: request.idempotencyKey,
        metered: { apiKeyId: key.id, identityId: subjects.identityId, projectId: key.project_id, memberId: key.owner_member_id, meter: request.meter, quantity: billed },
      }).id;
    }
    outcome.metered = { billedQuantity: billed, includedRemaining: beyond(terms!.included, used + request.quantity) };
    outcome.availableBalance = candidate.account.available;
    outcome.limits = limitsOf(key, undefined);
    return outcome;
  };

  const release = (request: ReleaseRequest, index: number): GatewayOutcome => {
    const hold = locked.holds.get(request.holdId)!;
    const settled = settledState(hold);
    if (settled.status === 'CAPTURED') return denied(DenialCode.HOLD_NOT_ACTIVE);
    if (settled.status === 'RELEASED') return settled.response;
    if (settled.status === 'ACTIVE') releaseHeld(hold, index);
    const outcome: GatewayOutcome = {
      ...emptyOutcome(),
      allowed: true,
      hold: { id: hold.id, amount: BigInt(hold.amount), expiresAt: hold.expires_at },
      availableBalance: decisions.plan.account(hold.wallet_id).available,
    };
    decisions.settledHolds.set(hold.id, { status: 'RELEASED', hash: gatewayRequestHash(request), response: outcome });
    return outcome;
  };

  requests.forEach((request, index) => {
    if (!triage.pending.has(index)) return;
    switch (request.kind) {
      case 'capture':
        decisions.outcomes[index] = capture(request, index);
        break;
      case 'release':
        decisions.outcomes[index] = release(request, index);
        break;
      case 'meter':
        decisions.outcomes[index] = meter(request, index);
        break;
      default:
        decisions.outcomes[index] = decideKeyed(request, index);
    }
  });
  return decisions;
}

/** The window frees a slot when its oldest second slides out. */
function retryAfter(window: RateWindow, nowSecond: number): number {
  const oldest = Math.min(...window.seconds.keys(), nowSecond);
  return Math.max(1, oldest + RATE_WINDOW_SECONDS - nowSecond);
}

/** Wallets that refused a debit for lack of credits while below their auto top-up threshold: is a top-up coming? */
export function awaitingTopUp(decisions: Decisions): string[] {
  return [...decisions.refusedForCredits.keys()].filter((walletId) => decisions.plan.account(walletId).belowTopUpThreshold);
}

/** Refusals are not stored, so they can still learn it: the gateway may retry once the top-up is in. */
export function toldOfTopUps(decisions: Decisions, walletsWithTopUpUnderWay: string[]): void {
  for (const walletId of walletsWithTopUpUnderWay) {
    for (const index of decisions.refusedForCredits.get(walletId) ?? []) decisions.outcomes[index] = denied(DenialCode.INSUFFICIENT_CREDITS, TOP_UP_RETRY_AFTER_SECONDS);
  }
}
