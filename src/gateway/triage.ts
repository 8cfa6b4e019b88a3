import { requestHash } from '../idempotency';
import { ALL_PERIODS, Period, periodStart } from '../limits/periods';
import { counterKey } from '../limits/usage';
import { DenialCode, denied, emptyOutcome, type GatewayRequest, outcomeFromJson, type ReportedUsage } from './contract';
import type { BatchReads, HoldRow, KeyRow, Subjects, Triage } from './state';

/**
 * What makes two gateway requests "the same" under one idempotency key (or one hold): every
 * field the client sent, as sent (a maximum left out is not 0), the API key by its hash.
 */
export function gatewayRequestHash(request: GatewayRequest, secretHash = ''): string {
  const text = (value: bigint | null) => (value === null ? null : String(value));
  switch (request.kind) {
    case 'debit':
      return requestHash('gateway.debit', [secretHash, request.idempotencyKey, request.model, request.identity, request.routingMode, ...usageFields(request)]);
    case 'authorize': {
      const { maxInputTokens, maxOutputTokens, maxCachedInputTokens, maxCacheWriteTokens, maxReasoningTokens, maxImages, maxProviderCost } = request;
      const maxima = [maxInputTokens, maxOutputTokens, maxCachedInputTokens, maxCacheWriteTokens, maxReasoningTokens, maxImages, maxProviderCost];
      return requestHash('gateway.authorize', [secretHash, request.idempotencyKey, request.model, request.identity, request.routingMode, ...maxima.map(text)]);
    }
    case 'capture':
      return requestHash('gateway.capture', [request.holdId, ...usageFields(request)]);
    case 'release':
      return requestHash('gateway.release', [request.holdId]);
    case 'meter':
      return requestHash('gateway.meter', [secretHash, request.idempotencyKey, request.meter, String(request.quantity), request.identity]);
  }
}

/** A debit's or capture's usage, field by field, in a fixed order: every gateway call hashes its request, so no generic walk. */
function usageFields(usage: ReportedUsage): Array<string | null> {
  const { inputTokens, outputTokens, cachedInputTokens, cacheWriteTokens, reasoningTokens, images, providerCost } = usage;
  return [String(inputTokens), String(outputTokens), String(cachedInputTokens), String(cacheWriteTokens), String(reasoningTokens), String(images), providerCost === null ? null : String(providerCost)];
}

/**
 * Answers what needs no decision, before the transaction (it needs nothing locked): unknown
 * keys, replays of answered idempotency keys, and the same key with a different request.
 * Within the batch, later copies of one idempotency key follow the first.
 */
export function triage(requests: GatewayRequest[], reads: BatchReads): Triage {
  const result: Triage = { outcomes: requests.map(() => emptyOutcome()), pending: new Set(), firstWithKey: new Map(), requestHashes: new Map() };
  const firstByKey = new Map<string, number>();
  requests.forEach((request, index) => {
    if (request.kind === 'capture' || request.kind === 'release') return;
    const key = reads.keys.get(index);
    if (!key) {
      result.outcomes[index] = denied(DenialCode.INVALID_API_KEY);
      return;
    }
    const hash = gatewayRequestHash(request, key.secret_hash);
    result.requestHashes.set(index, hash);
    const seen = reads.seen.get(index);
    // A retry of what was done gets its answer even if the key was revoked or expired since.
    if (seen) {
      result.outcomes[index] = seen.request_hash === hash ? outcomeFromJson(seen.response) : denied(DenialCode.IDEMPOTENCY_KEY_REUSED);
      return;
    }
    if (!key.usable) {
      result.outcomes[index] = denied(DenialCode.INVALID_API_KEY);
      return;
    }
    const id = `${key.organization_id}|${request.idempotencyKey}`;
    const first = firstByKey.get(id);
    if (first === undefined) {
      firstByKey.set(id, index);
      result.pending.add(index);
    } else {
      result.firstWithKey.set(index, first);
    }
  });
  return result;
}

/** Captures and releases of holds that do not exist need no decision; the rest are decided. */
export function triageHolds(requests: GatewayRequest[], holds: Map<string, HoldRow>, result: Triage): void {
  requests.forEach((request, index) => {
    if (request.kind !== 'capture' && request.kind !== 'release') return;
    if (holds.has(request.holdId)) result.pending.add(index);
    else result.outcomes[index] = denied(DenialCode.HOLD_NOT_FOUND);
  });
}

/** Later copies of an idempotency key get the first one's answer, or a refusal when they differ from it. */
export function copyDuplicates(result: Triage): void {
  for (const [index, first] of result.firstWithKey) {
    result.outcomes[index] =
      result.requestHashes.get(index) === result.requestHashes.get(first) ? result.outcomes[first] : denied(DenialCode.IDEMPOTENCY_KEY_REUSED);
  }
}

export function identityOf(reads: BatchReads, identity: string | null, key: KeyRow) {
  return identity ? reads.identities.get(`${key.workspace_id}|${identity}`)! : null;
}

/** Who the request's charge counts against, and when: a hold's settlement counts in the periods of its authorization. */
export function subjectsOf(request: GatewayRequest, index: number, reads: BatchReads, holds: Map<string, HoldRow>, now: Date): { subjects: Subjects; at: Date } {
  if (request.kind === 'capture' || request.kind === 'release') {
    const hold = holds.get(request.holdId)!;
    return { subjects: { keyId: hold.api_key_id, identityId: hold.identity_id, projectId: hold.project_id }, at: hold.created_at };
  }
  const key = reads.keys.get(index)!;
  return { subjects: { keyId: key.id, identityId: identityOf(reads, request.identity, key)?.id ?? null, projectId: key.project_id }, at: now };
}

export interface CounterSpec {
  subjectId: string;
  period: Period;
  start: Date;
  key: string;
}

/** The counters a charge to `subjects` at `at` moves: each subject's, in every period. */
export type CountersOf = (subjects: Subjects, at: Date) => CounterSpec[];

/** `CountersOf` for one batch, which asks it for the same few subjects and instants thousands of times. */
export function batchCounters(): CountersOf {
  const known = new Map<string, CounterSpec[]>();
  return (subjects, at) => {
    const id = `${subjects.keyId}|${subjects.identityId}|${subjects.projectId}|${at.getTime()}`;
    let specs = known.get(id);
    if (!specs) {
      specs = [subjects.keyId, subjects.identityId, subjects.projectId].flatMap((subjectId) =>
        subjectId === null
          ? []
          : ALL_PERIODS.map((period) => {
              const start = periodStart(period, at);
              return { subjectId, period, start, key: counterKey(subjectId, period, start) };
            }),
      );
      known.set(id, specs);
    }
    return specs;
  };
}

/** A workspace's count of a meter in one UTC calendar month. */
export interface MeterCountSpec {
  workspaceId: string;
  meter: string;
  monthStart: Date;
  key: string;
}

export function meterCountOf(workspaceId: string, meter: string, at: Date): MeterCountSpec {
  const monthStart = periodStart(Period.MONTHLY, at);
  return { workspaceId, meter, monthStart, key: `${workspaceId}|${meter}|${monthStart.getTime()}` };
}

/**
 * What the decisions need locked: the wallets, the counters of every subject and period, the
 * rate-limited keys (model calls count in their window) and the month counts of meters.
 */
export function lockTargets(requests: GatewayRequest[], pending: Set<number>, reads: BatchReads, holds: Map<string, HoldRow>, now: Date, countersOf: CountersOf) {
  const walletIds = new Set<string>();
  const counters = new Map<string, CounterSpec>();
  const rateLimited = new Map<string, number>();
  const meterCounts = new Map<string, MeterCountSpec>();
  for (const index of pending) {
    const request = requests[index];
    const key = reads.keys.get(index);
    walletIds.add(request.kind === 'capture' || request.kind === 'release' ? holds.get(request.holdId)!.wallet_id : key!.wallet_id);
    const { subjects, at } = subjectsOf(request, index, reads, holds, now);
    for (const spec of countersOf(subjects, at)) counters.set(spec.key, spec);
    if (request.kind === 'meter') {
      if (reads.meters.get(index)) {
        const spec = meterCountOf(key!.workspace_id, request.meter, now);
        meterCounts.set(spec.key, spec);
      }
    } else if (key?.requests_per_minute) {
      rateLimited.set(key.id, key.requests_per_minute);
    }
  }
  return { walletIds: [...walletIds].sort(), counters: [...counters.values()], rateLimited, meterCounts: [...meterCounts.values()] };
}
