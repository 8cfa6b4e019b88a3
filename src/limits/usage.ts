import type { EntityManager } from '@mikro-orm/postgresql';
import { ALL_PERIODS, type KeyLimitPeriod, type Period, periodEnd, periodStart } from './periods';

/** One row of usage_counters: captured usage, and what active holds have reserved on top. */
export interface Counter {
  cost: bigint;
  tokens: bigint;
  requests: bigint;
  heldCost: bigint;
  heldTokens: bigint;
}

const ZERO: Counter = Object.freeze({ cost: 0n, tokens: 0n, requests: 0n, heldCost: 0n, heldTokens: 0n });

/** Counters are kept per subject (key, identity, project), period and period start. */
export function counterKey(subjectId: string, period: Period | KeyLimitPeriod, start: Date): string {
  return `${subjectId}|${period}|${start.getTime()}`;
}

/** A counter as locked, and what is added to it before it is written back. */
export class CounterTally {
  readonly change: Counter = { ...ZERO };

  constructor(readonly locked: Counter) {}

  add(change: Partial<Counter>): void {
    for (const field of Object.keys(change) as Array<keyof Counter>) this.change[field] += change[field]!;
  }

  get changed(): boolean {
    return Object.values(this.change).some((value) => value !== 0n);
  }

  /** Captured and held spend: what cost limits and budgets count. */
  get usedCost(): bigint {
    return this.locked.cost + this.change.cost + this.locked.heldCost + this.change.heldCost;
  }

  get usedTokens(): bigint {
    return this.locked.tokens + this.change.tokens + this.locked.heldTokens + this.change.heldTokens;
  }
}

/** What a limit still allows after `used`, floored at 0; null when there is no limit. */
export function remaining(limit: bigint | null | undefined, used: bigint): bigint | null {
  if (limit == null) return null;
  return used >= limit ? 0n : limit - used;
}

/**
 * A subject's (key's, identity's, project's) counters for the periods that contain `at`. All
 * figures of one snapshot are judged at the same instant, so a usage and its reset time agree
 * even when a period ends while a request is being answered.
 */
export class UsageSnapshot {
  constructor(
    readonly at: Date,
    private readonly counters: ReadonlyMap<string, Counter>,
  ) {}

  counter(period: Period | KeyLimitPeriod): Counter {
    return this.counters.get(period) ?? ZERO;
  }

  /** Captured spend of the current period; holds not included. */
  spent(period: Period | KeyLimitPeriod): bigint {
    return this.counter(period).cost;
  }

  /** What a cost limit still allows in the current period: captured and held spend count, floored at 0. */
  costRemaining(limit: bigint | null | undefined, period: Period | KeyLimitPeriod): bigint | null {
    const counter = this.counter(period);
    return remaining(limit, counter.cost + counter.heldCost);
  }

  tokensRemaining(limit: bigint | null | undefined, period: Period | KeyLimitPeriod): bigint | null {
    const counter = this.counter(period);
    return remaining(limit, counter.tokens + counter.heldTokens);
  }

  /** When the current period ends and its counters start again from zero. */
  resetAt(period: Period | KeyLimitPeriod): Date {
    return periodEnd(period, this.at);
  }
}

interface CounterRow {
  subject_id: string;
  period: string;
  cost: string;
  tokens: string;
  requests: string;
  held_cost: string;
  held_tokens: string;
}

/**
 * The counters of the current periods of many subjects in one query. A missing row is zero:
 * the engine creates a period's row with its first use.
 */
export async function loadUsage(em: EntityManager, subjectIds: readonly string[], at: Date): Promise<UsageSnapshot[]> {
  const bySubject = new Map<string, Map<string, Counter>>(subjectIds.map((id) => [id, new Map()]));
  if (subjectIds.length > 0) {
    const periods = ALL_PERIODS.map((period) => `(period = '${period}' and period_start = ?::timestamptz)`).join(' or ');
    const rows = await em.execute<CounterRow[]>(
      `select subject_id, period, cost::text, tokens::text, requests::text, held_cost::text, held_tokens::text
         from usage_counters
        where subject_id in (?) and (${periods})`,
      [[...new Set(subjectIds)], ...ALL_PERIODS.map((period) => periodStart(period, at).toISOString())],
    );
    for (const row of rows) {
      bySubject.get(row.subject_id)?.set(row.period, {
        cost: BigInt(row.cost),
        tokens: BigInt(row.tokens),
        requests: BigInt(row.requests),
        heldCost: BigInt(row.held_cost),
        heldTokens: BigInt(row.held_tokens),
      });
    }
  }
  return subjectIds.map((id) => new UsageSnapshot(at, bySubject.get(id)!));
}
