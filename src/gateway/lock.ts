import { recordset, textArray } from '../db/recordset';
import { raw, type Sql, sql, type Statement } from '../db/sql';
import { lockedWallet, type LockedWalletRow, lockWalletsStatement } from '../ledger/ledger';
import { PERIOD_UNITS } from '../limits/periods';
import { type Counter, counterKey } from '../limits/usage';
import type { GatewayRequest } from './contract';
import { type CounterSpec, type MeterCountSpec, meterCountOf } from './triage';
import type { ExpiredHold, HoldRow, LockedState, RateWindow } from './state';

/** The 60 seconds over which a key's requests per minute are counted. */
export const RATE_WINDOW_SECONDS = 60;

/** Timestamps are read as epoch milliseconds (the columns hold exactly that precision). */
const epochMs = (column: string) => raw(`(extract(epoch from ${column}) * 1000)::bigint::text`);

const PERIODS_WITH_UNITS = raw(
  Object.entries(PERIOD_UNITS)
    .map(([period, unit]) => `('${period}', '${unit}')`)
    .join(', '),
);

/** Holds to capture or release, locked in id order: each is settled against its own state. */
export async function lockHolds(query: Sql, requests: GatewayRequest[]): Promise<Map<string, HoldRow>> {
  const holds = new Map<string, HoldRow>();
  const ids = [...new Set(requests.flatMap((request) => (request.kind === 'capture' || request.kind === 'release' ? [request.holdId] : [])))];
  if (ids.length === 0) return holds;
  const rows = await query<HoldRow & { created_ms: string; expires_ms: string }>(
    sql`select h.id, h.organization_id, h.wallet_id, h.api_key_id, h.identity_id, h.project_id,
               (select k.owner_member_id from api_keys k where k.id = h.api_key_id) as member_id, h.model,
               h.amount::text, h.tokens::text, h.status, ${epochMs('h.created_at')} as created_ms,
               ${epochMs('h.expires_at')} as expires_ms, h.settle_request_hash, h.settle_response, h.routing_mode, h.markup_bps,
               h.discount_bps, h.input_price::text, h.output_price::text, h.cached_input_price::text, h.cache_write_price::text,
               h.reasoning_price::text, h.request_price::text, h.image_price::text
          from holds h
         where h.id in (select unnest(${textArray(ids.sort())}::text[]))
         order by h.id
           for update of h`,
  );
  for (const hold of rows) holds.set(hold.id, { ...hold, created_at: new Date(Number(hold.created_ms)), expires_at: new Date(Number(hold.expires_ms)) });
  return holds;
}

/**
 * In one statement: expires the overdue holds of the batch's wallets (they give their amount
 * back, so an expired hold never blocks spending), then locks the wallets (as the ledger locks
 * them), then the usage counters of every subject and period the batch or an expired hold
 * touches (creating the missing ones), each in key order. Every batch takes its locks in this
 * order, so batches only ever wait for each other, never deadlock. Holds that this batch
 * settles are left to it; holds another batch is settling are skipped.
 */
export async function lockWalletsAndCounters(
  query: Sql,
  walletIds: string[],
  counters: CounterSpec[],
  meterCounts: MeterCountSpec[],
  settling: Iterable<string>,
  now: Date,
): Promise<Pick<LockedState, 'wallets' | 'counters' | 'expiredHolds' | 'meterCounts'>> {
  const locked: Pick<LockedState, 'wallets' | 'counters' | 'expiredHolds' | 'meterCounts'> = {
    wallets: [],
    counters: new Map(),
    expiredHolds: [],
    meterCounts: new Map(),
  };
  if (walletIds.length === 0) return locked;
  const wanted = recordset(
    { subject_id: 'text', period: 'text', period_start: 'timestamptz' },
    counters.map((spec) => ({ subject_id: spec.subjectId, period: spec.period, period_start: spec.start.toISOString() })),
  );
  const meters = meterCounts.length > 0 ? lockMeterCounts(meterCounts) : { cte: raw(''), select: raw('') };
  const rows = await query<{ kind: 'expired' | 'wallet' | 'counter' | 'meter'; row: Record<string, string> }>(
    sql`with expired as (
         update holds set status = 'EXPIRED', settled_at = ${now}::timestamptz
          where id in (
            select id from holds
             where wallet_id in (select unnest(${textArray(walletIds)}::text[])) and status = 'ACTIVE' and expires_at <= ${now}::timestamptz
               and id not in (select unnest(${textArray(settling)}::text[]))
               for update skip locked)
          returning wallet_id, api_key_id, identity_id, project_id, amount, tokens, created_at),
       locked_wallets as (${lockWalletsStatement(walletIds)}),
       wanted as (
         select subject_id, period, period_start from ${wanted}
         union
         select s.subject_id, p.period, date_trunc(p.unit, e.created_at, 'UTC')
           from expired e
          cross join lateral (values (e.api_key_id), (e.identity_id), (e.project_id)) as s (subject_id)
          cross join (values ${PERIODS_WITH_UNITS}) as p (period, unit)
          where s.subject_id is not null),
       locked_counters as (
         insert into usage_counters (subject_id, period, period_start)
         select subject_id, period, period_start from wanted order by subject_id, period, period_start
         on conflict (subject_id, period, period_start) do update set cost = usage_counters.cost
         returning subject_id, period, ${epochMs('period_start')} as start_ms, cost::text as cost, tokens::text as tokens,
                   requests::text as requests, held_cost::text as held_cost, held_tokens::text as held_tokens)${meters.cte}
       select 'expired' as kind, jsonb_build_object('wallet_id', wallet_id, 'api_key_id', api_key_id, 'identity_id', identity_id,
              'project_id', project_id, 'amount', amount::text, 'tokens', tokens::text, 'created_ms', ${epochMs('created_at')}) as row
         from expired
       union all
       select 'wallet', to_jsonb(w) from locked_wallets w
       union all
       select 'counter', to_jsonb(c) from locked_counters c${meters.select}`,
  );
  for (const { kind, row } of rows) {
    if (kind === 'expired') {
      const { created_ms: createdMs, ...hold } = row;
      locked.expiredHolds.push({ ...(hold as Omit<ExpiredHold, 'created_at'>), created_at: new Date(Number(createdMs)) });
    } else if (kind === 'wallet') {
      locked.wallets.push(lockedWallet(row as unknown as LockedWalletRow));
    } else if (kind === 'meter') {
      locked.meterCounts.set(meterCountOf(row.workspace_id, row.meter, new Date(Number(row.start_ms))).key, BigInt(row.quantity));
    } else {
      const counter: Counter = {
        cost: BigInt(row.cost),
        tokens: BigInt(row.tokens),
        requests: BigInt(row.requests),
        heldCost: BigInt(row.held_cost),
        heldTokens: BigInt(row.held_tokens),
      };
      locked.counters.set(counterKey(row.subject_id, row.period as CounterSpec['period'], new Date(Number(row.start_ms))), counter);
    }
  }
  return locked;
}

/**
 * The month counts of the meters reported on, created when missing and locked in key order,
 * after the wallets (a workspace's meters are counted under its wallet's lock as well).
 */
function lockMeterCounts(meterCounts: MeterCountSpec[]): { cte: Statement; select: Statement } {
  const wanted = recordset(
    { workspace_id: 'text', meter: 'text', month_start: 'timestamptz' },
    meterCounts.map((spec) => ({ workspace_id: spec.workspaceId, meter: spec.meter, month_start: spec.monthStart.toISOString() })),
  );
  return {
    cte: sql`,
       locked_meters as (
         insert into meter_usage (workspace_id, meter, month_start)
         select workspace_id, meter, month_start from ${wanted} order by workspace_id, meter, month_start
         on conflict (workspace_id, meter, month_start) do update set quantity = meter_usage.quantity
         returning workspace_id, meter, ${epochMs('month_start')} as start_ms, quantity::text as quantity)`,
    select: raw(`
       union all
       select 'meter', to_jsonb(m) from locked_meters m`),
  };
}

/** Rate-limited keys are locked so that their 60-second window is counted by one batch at a time. */
export async function lockRateWindows(query: Sql, rateLimited: Map<string, number>, nowSecond: number): Promise<Map<string, RateWindow>> {
  const windows = new Map<string, RateWindow>();
  if (rateLimited.size === 0) return windows;
  const seconds = await query<{ api_key_id: string; second: string; requests: number }>(
    sql`with locked as (select id from api_keys where id in (select unnest(${textArray([...rateLimited.keys()].sort())}::text[])) order by id for no key update)
        select r.api_key_id, r.second::text, r.requests from rate_windows r
         where r.api_key_id in (select id from locked) and r.second > ${nowSecond - RATE_WINDOW_SECONDS}::bigint`,
  );
  for (const [id, limit] of rateLimited) windows.set(id, { limit, seconds: new Map(), used: 0 });
  for (const row of seconds) {
    const window = windows.get(row.api_key_id)!;
    window.seconds.set(Number(row.second), row.requests);
    window.used += row.requests;
  }
  return windows;
}
