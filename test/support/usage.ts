import { type KeyLimitPeriod, type Period, periodStart } from '../../src/limits/periods';
import type { TestApp } from './app';

/** A settable clock for the server under test: pass `() => clock.now` as its clock. */
export interface TestClock {
  now: Date;
}

export interface CounterValues {
  /** Nano-USD, captured. */
  cost?: bigint;
  tokens?: bigint;
  requests?: bigint;
  heldCost?: bigint;
  heldTokens?: bigint;
}

/**
 * Writes the counter row of `subjectId` for the period of `period` that contains `at`, as the
 * debit engine would have left it.
 */
export async function setCounter(
  app: TestApp,
  subjectId: string,
  period: Period | KeyLimitPeriod,
  at: Date,
  values: CounterValues,
): Promise<void> {
  const { cost = 0n, tokens = 0n, requests = 0n, heldCost = 0n, heldTokens = 0n } = values;
  await app.orm.em.fork().execute(
    `insert into usage_counters (subject_id, period, period_start, cost, tokens, requests, held_cost, held_tokens)
     values (?, ?, ?::timestamptz, ?::bigint, ?::bigint, ?::bigint, ?::bigint, ?::bigint)
     on conflict (subject_id, period, period_start) do update
        set cost = excluded.cost, tokens = excluded.tokens, requests = excluded.requests,
            held_cost = excluded.held_cost, held_tokens = excluded.held_tokens`,
    [subjectId, period, periodStart(period, at).toISOString(), ...[cost, tokens, requests, heldCost, heldTokens].map(String)],
  );
}
