import type { LowBalanceAlertEvent } from '../realtime/pubsub';
import { type Posting, postingOf } from '../ledger/ledger';
import type { GatewayOutcome, GatewayRequest } from './contract';
import { awaitingTopUp, decide, toldOfTopUps } from './decide';
import { lockHolds, lockRateWindows, lockWalletsAndCounters } from './lock';
import { loadIdentities, readKeys } from './read';
import type { Sql } from '../db/sql';
import type { BatchSettings } from './state';
import { batchCounters, copyDuplicates, lockTargets, triage, triageHolds } from './triage';
import { writeStatement } from './write';

export { IDEMPOTENCY_RACE, isIdempotencyRace } from './write';

export interface BatchTransaction {
  /** A statement in the transaction (the first one opens it). */
  query: Sql;
  /** The transaction's last statement, committed with it. */
  commitWith: Sql;
}

export interface BatchDatabase {
  /** A statement outside any transaction. */
  query: Sql;
  /** `work` in one transaction, rolled back if it throws. */
  transaction<T>(work: (tx: BatchTransaction) => Promise<T>): Promise<T>;
}

export interface BatchResult {
  outcomes: GatewayOutcome[];
  /**
   * What the ledger committed; its `belowTopUpThreshold` also has the wallets that refused a
   * debit for lack of credits while below their auto top-up threshold.
   */
  posting: Posting;
}

/**
 * One group commit: every request of the batch is decided and written in one database
 * transaction. Read (keys, prices, earlier answers, end users: before the transaction) → lock
 * (holds, then wallets and usage counters, then rate windows: always in this order, so batches
 * of several processes serialize on exactly what they share and never deadlock) → decide (in
 * arrival order against the locked values, no I/O) → write (one set-based statement, committed
 * with it). A denial is an answer, not an error: it never fails the rest of the batch.
 */
export async function processBatch(db: BatchDatabase, requests: GatewayRequest[], now: Date, settings: BatchSettings): Promise<BatchResult> {
  const reads = await readKeys(db.query, requests, now);
  const sorted = triage(requests, reads);
  reads.identities = await loadIdentities(db.query, requests, sorted.pending, reads.keys);
  const countersOf = batchCounters();
  return db.transaction(async (tx) => {
    const holds = await lockHolds(tx.query, requests);
    triageHolds(requests, holds, sorted);
    const targets = lockTargets(requests, sorted.pending, reads, holds, now, countersOf);
    const locked = await lockWalletsAndCounters(tx.query, targets.walletIds, targets.counters, targets.meterCounts, holds.keys(), now);
    const rateWindows = await lockRateWindows(tx.query, targets.rateLimited, Math.floor(now.getTime() / 1000));
    const decisions = decide(requests, reads, sorted, { holds, rateWindows, ...locked }, now, settings, countersOf);
    const waiting = settings.topUpDailyLimit === null ? [] : awaitingTopUp(decisions);
    const [written] = await tx.commitWith<{ alerts: LowBalanceAlertEvent[]; top_ups_under_way: string[] | null }>(
      writeStatement(requests, reads, sorted, decisions, now, waiting.length > 0 ? { walletIds: waiting, dailyLimit: settings.topUpDailyLimit! } : null),
    );
    toldOfTopUps(decisions, written.top_ups_under_way ?? []);
    copyDuplicates(sorted);
    return { outcomes: decisions.outcomes, posting: postingOf(decisions.plan, written.alerts, waiting) };
  });
}
