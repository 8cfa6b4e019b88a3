import { createHash } from 'node:crypto';
import { hashToken } from '../auth/tokens';
import { idSequence, newId } from '../ids';
import { ALL_PERIODS, type KeyLimitPeriod, type Period, periodEnd, periodStart } from '../limits/periods';
import { remaining } from '../limits/usage';
import { usageCost, type TokenPrice } from '../pricing/cost';
import { LOW_BALANCE_ALERTS_JSON, lowBalanceCtes } from '../alerts/low-balance';
import type { LowBalanceAlertEvent, TransactionsRecordedEvent, WalletBalanceEvent } from '../realtime/pubsub';
import {
  type CaptureRequest,
  DenialCode,
  denied,
  emptyOutcome,
  type GatewayOutcome,
  type GatewayRequest,
  type KeyedRequest,
  type KeyLimits,
  outcomeFromJson,
  outcomeToJson,
  type ReleaseRequest,
  TOP_UP_RETRY_AFTER_SECONDS,
} from './contract';
import { recordset, textArray } from '../db/recordset';

/**
 * One group commit: every request of the batch is decided and written in one database
 * transaction, `tx`. The rows every decision depends on (wallets, usage counters, rate-limited
 * keys, settled holds) are locked first, always in the same order, so batches of several
 * processes serialize on exactly what they share and never deadlock on each other. Decisions
 * are then taken in arrival order against the locked values, and the results are written back
 * with one set-based statement per table: balances move by `balance + delta` under a guard.
 * A denial is an answer, not an error: it never fails the rest of the batch.
 */
export async function processBatch(
  db: BatchDatabase,
  requests: GatewayRequest[],
  now: Date,
  holdTtlMs: number,
  /** Auto top-ups per wallet in 24 hours; null where this server makes none. */
  topUpDailyLimit: number | null,
): Promise<BatchResult> {
  return new Batch(requests, now, holdTtlMs, topUpDailyLimit).run(db);
}

/** Runs one statement; `?` placeholders. */
export type Sql = <T>(statement: string, params: unknown[]) => Promise<T[]>;

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

/**
 * Raised by the write when another batch answered one of our idempotency keys while we were
 * deciding: the batch is rolled back and run again, and then replays that answer.
 */
export const IDEMPOTENCY_RACE = 'idempotency race';

export function isIdempotencyRace(error: unknown): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return code === 'TG001' && message === IDEMPOTENCY_RACE;
}

export interface WalletEvents {
  balance: WalletBalanceEvent;
  recorded: TransactionsRecordedEvent;
}

export interface BatchResult {
  outcomes: GatewayOutcome[];
  events: WalletEvents[];
  /**
   * Wallets with auto top-up on that the batch left below their threshold: taken down there, or
   * already there and refusing a debit for lack of credits.
   */
  belowTopUpThreshold: string[];
  /** The low-balance alerts the batch fired. */
  lowBalanceAlerts: LowBalanceAlertEvent[];
}

interface KeyRow {
  id: string;
  organization_id: string;
  workspace_id: string;
  wallet_id: string;
  project_id: string | null;
  secret_hash: string;
  cost_limit: string | null;
  token_limit: string | null;
  limit_period: KeyLimitPeriod;
  requests_per_minute: number | null;
  usable: boolean;
  markup_bps: number;
  project_budget: string | null;
  project_budget_period: Period | null;
}

interface HoldRow {
  id: string;
  organization_id: string;
  wallet_id: string;
  api_key_id: string;
  identity_id: string | null;
  project_id: string | null;
  model: string;
  amount: string;
  tokens: string;
  status: 'ACTIVE' | 'CAPTURED' | 'RELEASED' | 'EXPIRED';
  created_at: Date;
  expires_at: Date;
  settle_request_hash: string | null;
  settle_response: unknown;
  markup_bps: number;
  input_price: string;
  output_price: string;
}

interface ExpiredHold {
  wallet_id: string;
  api_key_id: string;
  identity_id: string | null;
  project_id: string | null;
  amount: string;
  tokens: string;
  created_at: Date;
}

interface IdentityRow {
  id: string;
  workspace_id: string;
  external_id: string;
  budget: string | null;
  budget_period: Period | null;
}

interface WalletState {
  organizationId: string;
  balance: bigint;
  held: bigint;
  balanceDelta: bigint;
  heldDelta: bigint;
  /** The DEDUCTION rows of this batch, in order. */
  transactionIds: string[];
  /** The auto top-up threshold, when auto top-up is on. */
  topUpThreshold: bigint | null;
  /** Requests refused for lack of credits, by index. */
  refusedForCredits: number[];
  /** The highest armed low-balance threshold, if any: a balance below it fires alerts. */
  alertThreshold: bigint | null;
}

interface Counter {
  cost: bigint;
  tokens: bigint;
  heldCost: bigint;
  heldTokens: bigint;
  dCost: bigint;
  dTokens: bigint;
  dRequests: bigint;
  dHeldCost: bigint;
  dHeldTokens: bigint;
}

interface RateWindow {
  limit: number;
  /** Requests per epoch second inside the window. */
  seconds: Map<number, number>;
  used: number;
  added: number;
}

/** Who a charge counts against: the key, and the identity and project when there are. */
interface Subjects {
  keyId: string;
  identityId: string | null;
  projectId: string | null;
}

interface LedgerRow {
  id: string;
  wallet_id: string;
  organization_id: string;
  amount: string;
  balance_after: string;
  description: string;
  idempotency_key: string | null;
  api_key_id: string;
  identity_id: string | null;
  project_id: string | null;
  model: string;
  input_tokens: string;
  output_tokens: string;
  hold_id: string | null;
}

/** A hold this batch creates: the row as it is read back, timestamps as ISO text. */
type NewHold = Omit<HoldRow, 'status' | 'created_at' | 'expires_at' | 'settle_request_hash' | 'settle_response'> & {
  created_at: string;
  expires_at: string;
};

const RATE_WINDOW_SECONDS = 60;

/**
 * Of the wallets `?::text[]`, those whose auto top-up is being charged or starts now (the rule
 * of AutoTopUps.start): the top-up in flight has not been declined (a declined one waits minutes
 * for its next attempt), or none is in flight and fewer than `?` were started in 24 hours.
 */
const TOP_UPS_UNDER_WAY = `(select coalesce(jsonb_agg(x.wallet_id), '[]'::jsonb)
     from unnest(?::text[]) as x (wallet_id)
     cross join lateral (
       select (select p.failure_reason is null from purchases p
                where p.wallet_id = x.wallet_id and p.kind = 'AUTO_TOP_UP' and p.status in ('PENDING', 'REQUIRES_ACTION')) as charging,
              (select count(*) from purchases p
                where p.wallet_id = x.wallet_id and p.kind = 'AUTO_TOP_UP' and p.created_at > now() - interval '24 hours') as top_ups) as t
    where t.charging or (t.charging is null and t.top_ups < ?::bigint))`;

/** Timestamps are read as epoch milliseconds (the columns hold exactly that precision). */
const EPOCH_MS = (column: string) => `(extract(epoch from ${column}) * 1000)::bigint::text`;

/**
 * What makes two requests "the same" under one idempotency key (or one hold): every field the
 * client sent, as sent (a maximum left out is not 0), the API key by its hash.
 */
function fingerprint(request: GatewayRequest, secretHash = ''): string {
  const fields =
    request.kind === 'debit'
      ? [request.kind, secretHash, request.idempotencyKey, request.model, request.identity, String(request.inputTokens), String(request.outputTokens)]
      : request.kind === 'authorize'
        ? [request.kind, secretHash, request.idempotencyKey, request.model, request.identity, String(request.maxInputTokens), String(request.maxOutputTokens)]
        : request.kind === 'capture'
          ? [request.kind, request.holdId, String(request.inputTokens), String(request.outputTokens)]
          : [request.kind, request.holdId];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}

const big = (value: string | null): bigint | null => (value === null ? null : BigInt(value));

const counterKey = (subjectId: string, period: Period, start: Date) => `${subjectId}|${period}|${start.getTime()}`;

class Batch {
  private readonly outcomes: GatewayOutcome[];
  /** What was read for each keyed request, by index: its key, its model's price, an earlier answer. */
  private readonly keys = new Map<number, KeyRow>();
  private readonly prices = new Map<number, TokenPrice | null>();
  private readonly seen = new Map<number, { request_hash: string; response: unknown } | null>();
  private readonly holds = new Map<string, HoldRow>();
  private readonly identities = new Map<string, IdentityRow>();
  private readonly wallets = new Map<string, WalletState>();
  private readonly counters = new Map<string, Counter>();
  private readonly rateWindows = new Map<string, RateWindow>();
  /** Requests that must be decided here (not replays, not invalid keys), by index. */
  private readonly pending = new Set<number>();
  /** Index of the first request with the same (organization, idempotency key), for duplicates. */
  private readonly firstWithKey = new Map<number, number>();
  private readonly requestHashes = new Map<number, string>();
  private readonly ledgerRows: LedgerRow[] = [];
  private readonly newHolds: NewHold[] = [];
  private readonly settledHolds = new Map<string, { status: string; hash: string; response: unknown }>();
  private readonly expiredHolds: ExpiredHold[] = [];
  private lowBalanceAlerts: LowBalanceAlertEvent[] = [];
  private readonly nowSecond: number;
  /** Ledger rows of one batch share a timestamp; their ids keep them in posting order. */
  private readonly nextTransactionId = idSequence('transaction');

  /** Where statements go: outside a transaction at first, then the batch's transaction. */
  private query!: Sql;
  private commitWith!: Sql;

  constructor(
    private readonly requests: GatewayRequest[],
    private readonly now: Date,
    private readonly holdTtlMs: number,
    private readonly topUpDailyLimit: number | null,
  ) {
    this.outcomes = requests.map(() => emptyOutcome());
    this.nowSecond = Math.floor(now.getTime() / 1000);
  }

  /**
   * The hot wallet waits on what happens while it is locked, so that is little: keys, prices,
   * earlier answers and end users are read, and requests fingerprinted, before the transaction
   * (an answer stored meanwhile by another batch is caught when ours is written); then one
   * statement locks, the decisions are taken, one statement writes.
   */
  async run(db: BatchDatabase): Promise<BatchResult> {
    this.query = db.query;
    await this.readKeys();
    this.sortOutKeyedRequests();
    await this.loadIdentities();
    await db.transaction(async (tx) => {
      this.query = tx.query;
      this.commitWith = tx.commitWith;
      await this.lockHolds();
      this.sortOutHoldRequests();
      await this.lockWalletsAndCounters();
      await this.lockRateWindows();
      this.requests.forEach((request, index) => {
        if (!this.pending.has(index)) return;
        this.outcomes[index] =
          request.kind === 'capture'
            ? this.capture(request, index)
            : request.kind === 'release'
              ? this.release(request, index)
              : this.decide(request, index);
      });
      await this.write();
      this.copyDuplicates();
    });
    return { outcomes: this.outcomes, events: this.events(), belowTopUpThreshold: this.belowTopUpThreshold(), lowBalanceAlerts: this.lowBalanceAlerts };
  }

  // ---- reads -------------------------------------------------------------------------------

  /**
   * One statement for the keyed requests: each distinct key with its limits, each distinct
   * model's price, and the answers already given under the requests' idempotency keys.
   */
  private async readKeys(): Promise<void> {
    const secretHashes = new Map<string, string>();
    const wanted: Array<{ i: number; secret_hash: string; key: string }> = [];
    const models = new Set<string>();
    this.requests.forEach((request, i) => {
      if (request.kind !== 'debit' && request.kind !== 'authorize') return;
      let secretHash = secretHashes.get(request.apiKey);
      if (!secretHash) {
        secretHash = hashToken(request.apiKey);
        secretHashes.set(request.apiKey, secretHash);
      }
      wanted.push({ i, secret_hash: secretHash, key: request.idempotencyKey });
      models.add(request.model);
    });
    if (wanted.length === 0) return;
    const wantedRows = recordset({ i: 'integer', secret_hash: 'text', key: 'text' }, wanted);
    // Each kind of row has its own shape, told apart by `kind`.
    const found = await this.query<{ kind: 'key' | 'price' | 'seen'; row: any }>(
      `with wanted as (
         select * from ${wantedRows.from}),
       keys as (
         select k.id, k.organization_id, k.workspace_id, k.wallet_id, k.project_id, k.secret_hash,
                k.cost_limit::text as cost_limit, k.token_limit::text as token_limit, k.limit_period,
                k.requests_per_minute, (k.revoked_at is null and (k.expires_at is null or k.expires_at > ?::timestamptz)) as usable,
                ws.markup_bps, p.budget::text as project_budget, p.budget_period as project_budget_period
           from api_keys k
           join workspaces ws on ws.id = k.workspace_id
           left join projects p on p.id = k.project_id
          where k.secret_hash in (select secret_hash from wanted))
       select 'key' as kind, to_jsonb(keys) as row from keys
       union all
       select 'price', jsonb_build_object('model', model, 'input_price', input_price::text, 'output_price', output_price::text)
         from model_prices where model in (select unnest(?::text[]))
       union all
       -- A lateral subquery kept apart (offset 0), so that each request probes the primary key
       -- on both columns instead of scanning all of its organization's ever-growing keys.
       select 'seen', jsonb_build_object('i', w.i, 'request_hash', ik.request_hash, 'response', ik.response)
         from wanted w
         join keys k on k.secret_hash = w.secret_hash
         join lateral (
           select request_hash, response from idempotency_keys
            where organization_id = k.organization_id and key = w.key offset 0) as ik on true`,
      [...wantedRows.params, this.now, textArray(models)],
    );
    const keysByHash = new Map<string, KeyRow>();
    const prices = new Map<string, TokenPrice>();
    const seen = new Map<number, { request_hash: string; response: unknown }>();
    for (const { kind, row } of found) {
      if (kind === 'key') keysByHash.set(row.secret_hash, row);
      else if (kind === 'price') prices.set(row.model, { inputPrice: BigInt(row.input_price), outputPrice: BigInt(row.output_price) });
      else seen.set(row.i, row);
    }
    for (const { i, secret_hash: secretHash } of wanted) {
      const key = keysByHash.get(secretHash);
      if (key) this.keys.set(i, key);
      this.seen.set(i, seen.get(i) ?? null);
      const request = this.requests[i] as KeyedRequest;
      this.prices.set(i, prices.get(request.model) ?? null);
    }
  }

  /** Holds to capture or release, locked in id order: each is settled against its own state. */
  private async lockHolds(): Promise<void> {
    const ids = [...new Set(this.requests.flatMap((request) => (request.kind === 'capture' || request.kind === 'release' ? [request.holdId] : [])))];
    if (ids.length === 0) return;
    const holds = await this.query<HoldRow & { created_ms: string; expires_ms: string }>(
      `select h.id, h.organization_id, h.wallet_id, h.api_key_id, h.identity_id, h.project_id, h.model,
              h.amount::text, h.tokens::text, h.status, ${EPOCH_MS('h.created_at')} as created_ms,
              ${EPOCH_MS('h.expires_at')} as expires_ms, h.settle_request_hash, h.settle_response, h.markup_bps,
              h.input_price::text, h.output_price::text
         from holds h
        where h.id in (select unnest(?::text[]))
        order by h.id
          for update of h`,
      [textArray(ids.sort())],
    );
    for (const hold of holds) {
      this.holds.set(hold.id, { ...hold, created_at: new Date(Number(hold.created_ms)), expires_at: new Date(Number(hold.expires_ms)) });
    }
  }

  /** Captures and releases of holds that do not exist need no decision. */
  private sortOutHoldRequests(): void {
    this.requests.forEach((request, index) => {
      if (request.kind !== 'capture' && request.kind !== 'release') return;
      if (this.holds.has(request.holdId)) this.pending.add(index);
      else this.outcomes[index] = denied(DenialCode.HOLD_NOT_FOUND);
    });
  }

  /**
   * Answers what needs no decision, before the transaction (it needs nothing locked): unknown
   * keys, replays of answered idempotency keys, and the same key with a different request.
   * Within the batch, later copies of one idempotency key follow the first.
   */
  private sortOutKeyedRequests(): void {
    const firstByKey = new Map<string, number>();
    this.requests.forEach((request, index) => {
      if (request.kind === 'capture' || request.kind === 'release') return;
      const key = this.keys.get(index);
      if (!key) {
        this.outcomes[index] = denied(DenialCode.INVALID_API_KEY);
        return;
      }
      const hash = fingerprint(request, key.secret_hash);
      this.requestHashes.set(index, hash);
      const seen = this.seen.get(index);
      // A retry of what was done gets its answer even if the key was revoked or expired since.
      if (seen) {
        this.outcomes[index] = seen.request_hash === hash ? outcomeFromJson(seen.response) : denied(DenialCode.IDEMPOTENCY_KEY_REUSED);
        return;
      }
      if (!key.usable) {
        this.outcomes[index] = denied(DenialCode.INVALID_API_KEY);
        return;
      }
      const id = `${key.organization_id}|${request.idempotencyKey}`;
      const first = firstByKey.get(id);
      if (first === undefined) {
        firstByKey.set(id, index);
        this.pending.add(index);
      } else {
        this.firstWithKey.set(index, first);
      }
    });
  }

  /** End users are created on first use, then read with their budgets. */
  private async loadIdentities(): Promise<void> {
    const wanted = new Map<string, { id: string; organization_id: string; workspace_id: string; external_id: string }>();
    for (const index of this.pending) {
      const request = this.requests[index];
      if ((request.kind !== 'debit' && request.kind !== 'authorize') || !request.identity) continue;
      const key = this.keys.get(index)!;
      const id = `${key.workspace_id}|${request.identity}`;
      if (!wanted.has(id)) {
        wanted.set(id, { id: newId('identity'), organization_id: key.organization_id, workspace_id: key.workspace_id, external_id: request.identity });
      }
    }
    if (wanted.size === 0) return;
    const list = [...wanted.values()].sort((a, b) => (a.workspace_id + a.external_id < b.workspace_id + b.external_id ? -1 : 1));
    const created = recordset({ id: 'text', organization_id: 'text', workspace_id: 'text', external_id: 'text' }, list);
    await this.query(
      `insert into identities (id, organization_id, workspace_id, external_id)
       select id, organization_id, workspace_id, external_id from ${created.from}
       on conflict (workspace_id, external_id) do nothing`,
      created.params,
    );
    const named = recordset({ workspace_id: 'text', external_id: 'text' }, list);
    const found = await this.query<IdentityRow>(
      `select i.id, i.workspace_id, i.external_id, i.budget::text, i.budget_period
         from identities i join ${named.from} using (workspace_id, external_id)`,
      named.params,
    );
    for (const identity of found) this.identities.set(`${identity.workspace_id}|${identity.external_id}`, identity);
  }

  private identityOf(request: KeyedRequest, key: KeyRow): IdentityRow | null {
    return request.identity ? this.identities.get(`${key.workspace_id}|${request.identity}`)! : null;
  }

  private walletIds(): string[] {
    const ids = new Set<string>();
    for (const index of this.pending) {
      const request = this.requests[index];
      ids.add(request.kind === 'capture' || request.kind === 'release' ? this.holds.get(request.holdId)!.wallet_id : this.keys.get(index)!.wallet_id);
    }
    return [...ids].sort();
  }

  private subjectsOf(index: number): { subjects: Subjects; at: Date } {
    const request = this.requests[index];
    if (request.kind === 'capture' || request.kind === 'release') {
      const hold = this.holds.get(request.holdId)!;
      return { subjects: { keyId: hold.api_key_id, identityId: hold.identity_id, projectId: hold.project_id }, at: hold.created_at };
    }
    const key = this.keys.get(index)!;
    return { subjects: { keyId: key.id, identityId: this.identityOf(request, key)?.id ?? null, projectId: key.project_id }, at: this.now };
  }

  private readonly counterRowsSeen = new Map<string, Array<{ subjectId: string; period: Period; start: Date; key: string }>>();

  /** The counters a charge to `subjects` at `at` moves: each subject's, in every period. */
  private counterRows(subjects: Subjects, at: Date) {
    const id = `${subjects.keyId}|${subjects.identityId}|${subjects.projectId}|${at.getTime()}`;
    let found = this.counterRowsSeen.get(id);
    if (!found) {
      const ids = [subjects.keyId, subjects.identityId, subjects.projectId].filter((subjectId): subjectId is string => subjectId !== null);
      found = ids.flatMap((subjectId) =>
        ALL_PERIODS.map((period) => {
          const start = periodStart(period, at);
          return { subjectId, period, start, key: counterKey(subjectId, period, start) };
        }),
      );
      this.counterRowsSeen.set(id, found);
    }
    return found;
  }

  /**
   * In one statement: expires the overdue holds of the batch's wallets (they give their amount
   * back, so an expired hold never blocks spending), then locks the wallets, then the usage
   * counters of every subject and period the batch or an expired hold touches (creating the
   * missing ones), each in key order. Every batch takes its locks in this order, so batches
   * only ever wait for each other, never deadlock. Holds that this batch settles are left to
   * it; holds another batch is settling are skipped.
   */
  private async lockWalletsAndCounters(): Promise<void> {
    const walletIds = this.walletIds();
    if (walletIds.length === 0) return;
    const wantedCounters = new Map<string, { subject_id: string; period: Period; period_start: string }>();
    for (const index of this.pending) {
      const { subjects, at } = this.subjectsOf(index);
      for (const { subjectId, period, start, key } of this.counterRows(subjects, at)) {
        if (!wantedCounters.has(key)) wantedCounters.set(key, { subject_id: subjectId, period, period_start: start.toISOString() });
      }
    }
    const counterRows = recordset({ subject_id: 'text', period: 'text', period_start: 'timestamptz' }, [...wantedCounters.values()]);
    const locked = await this.query<{ kind: 'expired' | 'wallet' | 'counter'; row: Record<string, string> }>(
      `with expired as (
         update holds set status = 'EXPIRED', settled_at = ?::timestamptz
          where id in (
            select id from holds
             where wallet_id in (select unnest(?::text[])) and status = 'ACTIVE' and expires_at <= ?::timestamptz
               and id not in (select unnest(?::text[]))
               for update skip locked)
          returning wallet_id, api_key_id, identity_id, project_id, amount, tokens, created_at),
       locked_wallets as (
         select id, organization_id, balance::text as balance, held::text as held,
                case when auto_top_up_enabled then auto_top_up_threshold::text end as top_up_threshold,
                (select max(t.amount)::text from low_balance_thresholds t where t.wallet_id = wallets.id and t.armed) as alert_threshold
           from wallets
          where id in (select unnest(?::text[])) order by id for no key update),
       wanted as (
         select subject_id, period, period_start
           from ${counterRows.from}
         union
         select s.subject_id, p.period, date_trunc(p.unit, e.created_at, 'UTC')
           from expired e
          cross join lateral (values (e.api_key_id), (e.identity_id), (e.project_id)) as s (subject_id)
          cross join (values ('DAILY', 'day'), ('WEEKLY', 'week'), ('MONTHLY', 'month'), ('YEARLY', 'year')) as p (period, unit)
          where s.subject_id is not null),
       locked_counters as (
         insert into usage_counters (subject_id, period, period_start)
         select subject_id, period, period_start from wanted order by subject_id, period, period_start
         on conflict (subject_id, period, period_start) do update set cost = usage_counters.cost
         returning subject_id, period, ${EPOCH_MS('period_start')} as start_ms, cost::text as cost, tokens::text as tokens,
                   held_cost::text as held_cost, held_tokens::text as held_tokens)
       select 'expired' as kind, jsonb_build_object('wallet_id', wallet_id, 'api_key_id', api_key_id, 'identity_id', identity_id,
              'project_id', project_id, 'amount', amount::text, 'tokens', tokens::text, 'created_ms', ${EPOCH_MS('created_at')}) as row
         from expired
       union all
       select 'wallet', to_jsonb(w) from locked_wallets w
       union all
       select 'counter', to_jsonb(c) from locked_counters c`,
      [
        this.now,
        textArray(walletIds),
        this.now,
        textArray(this.holds.keys()),
        textArray(walletIds),
        ...counterRows.params,
      ],
    );
    for (const { kind, row } of locked) {
      if (kind === 'expired') {
        this.expiredHolds.push({
          wallet_id: row.wallet_id,
          api_key_id: row.api_key_id,
          identity_id: row.identity_id,
          project_id: row.project_id,
          amount: row.amount,
          tokens: row.tokens,
          created_at: new Date(Number(row.created_ms)),
        });
      } else if (kind === 'wallet') {
        this.wallets.set(row.id, {
          organizationId: row.organization_id,
          balance: BigInt(row.balance),
          held: BigInt(row.held),
          balanceDelta: 0n,
          heldDelta: 0n,
          transactionIds: [],
          topUpThreshold: big(row.top_up_threshold),
          refusedForCredits: [],
          alertThreshold: big(row.alert_threshold),
        });
      } else {
        this.counters.set(`${row.subject_id}|${row.period}|${row.start_ms}`, {
          cost: BigInt(row.cost),
          tokens: BigInt(row.tokens),
          heldCost: BigInt(row.held_cost),
          heldTokens: BigInt(row.held_tokens),
          dCost: 0n,
          dTokens: 0n,
          dRequests: 0n,
          dHeldCost: 0n,
          dHeldTokens: 0n,
        });
      }
    }
    for (const hold of this.expiredHolds) {
      this.wallets.get(hold.wallet_id)!.heldDelta -= BigInt(hold.amount);
      this.addToCounters({ keyId: hold.api_key_id, identityId: hold.identity_id, projectId: hold.project_id }, hold.created_at, {
        dHeldCost: -BigInt(hold.amount),
        dHeldTokens: -BigInt(hold.tokens),
      });
    }
  }

  /** Rate-limited keys are locked so that their 60-second window is counted by one batch at a time. */
  private async lockRateWindows(): Promise<void> {
    const limited = new Map<string, number>();
    for (const index of this.pending) {
      const key = this.keys.get(index);
      if (key?.requests_per_minute) limited.set(key.id, key.requests_per_minute);
    }
    if (limited.size === 0) return;
    const ids = [...limited.keys()].sort();
    const seconds = await this.query<{ api_key_id: string; second: string; requests: number }>(
      `with locked as (select id from api_keys where id in (select unnest(?::text[])) order by id for no key update)
       select r.api_key_id, r.second::text, r.requests from rate_windows r
        where r.api_key_id in (select id from locked) and r.second > ?::bigint`,
      [textArray(ids), this.nowSecond - RATE_WINDOW_SECONDS],
    );
    for (const [id, limit] of limited) this.rateWindows.set(id, { limit, seconds: new Map(), used: 0, added: 0 });
    for (const row of seconds) {
      const window = this.rateWindows.get(row.api_key_id)!;
      window.seconds.set(Number(row.second), row.requests);
      window.used += row.requests;
    }
  }

  /** Period bounds are asked for on every request with the same few arguments. */
  private readonly periodBounds = new Map<string, { start: Date; end: Date }>();

  private period(period: Period | KeyLimitPeriod, at: Date): { start: Date; end: Date } {
    const id = `${period}|${at.getTime()}`;
    let bounds = this.periodBounds.get(id);
    if (!bounds) this.periodBounds.set(id, (bounds = { start: periodStart(period, at), end: periodEnd(period, at) }));
    return bounds;
  }

  private counter(subjectId: string, period: Period | KeyLimitPeriod, at: Date): Counter {
    return this.counters.get(counterKey(subjectId, period as Period, this.period(period, at).start))!;
  }

  private addToCounters(subjects: Subjects, at: Date, change: Partial<Pick<Counter, 'dCost' | 'dTokens' | 'dRequests' | 'dHeldCost' | 'dHeldTokens'>>): void {
    for (const { key } of this.counterRows(subjects, at)) {
      const counter = this.counters.get(key)!;
      counter.dCost += change.dCost ?? 0n;
      counter.dTokens += change.dTokens ?? 0n;
      counter.dRequests += change.dRequests ?? 0n;
      counter.dHeldCost += change.dHeldCost ?? 0n;
      counter.dHeldTokens += change.dHeldTokens ?? 0n;
    }
  }

  // ---- decisions ---------------------------------------------------------------------------

  private available(wallet: WalletState): bigint {
    return wallet.balance + wallet.balanceDelta - (wallet.held + wallet.heldDelta);
  }

  private static usedCost(counter: Counter): bigint {
    return counter.cost + counter.dCost + counter.heldCost + counter.dHeldCost;
  }

  private static usedTokens(counter: Counter): bigint {
    return counter.tokens + counter.dTokens + counter.heldTokens + counter.dHeldTokens;
  }

  /**
   * Whether `amount` more fits under `limit` given what is `used`. A request with nothing to
   * reserve (an authorization without maxima) still needs something left.
   */
  private static exceeds(used: bigint, amount: bigint, limit: bigint | null, reserveNothing: boolean): boolean {
    if (limit === null) return false;
    return reserveNothing ? used >= limit : used + amount > limit;
  }

  private decide(request: KeyedRequest, index: number): GatewayOutcome {
    const key = this.keys.get(index)!;
    const price = this.prices.get(index);
    if (!price) return denied(DenialCode.UNKNOWN_MODEL);

    const window = this.rateWindows.get(key.id);
    if (window) {
      if (window.used >= window.limit) return denied(DenialCode.KEY_RATE_LIMITED, this.retryAfter(window));
      window.used += 1;
      window.added += 1;
    }

    const authorizing = request.kind === 'authorize';
    const inputTokens = authorizing ? (request.maxInputTokens ?? 0n) : request.inputTokens;
    const outputTokens = authorizing ? (request.maxOutputTokens ?? 0n) : request.outputTokens;
    const cost = usageCost(inputTokens, outputTokens, price, key.markup_bps);
    const tokens = inputTokens + outputTokens;
    const reserveNothing = authorizing && cost === 0n;
    const identity = this.identityOf(request, key);

    const keyCounter = this.counter(key.id, key.limit_period, this.now);
    if (Batch.exceeds(Batch.usedCost(keyCounter), cost, big(key.cost_limit), reserveNothing)) {
      return denied(DenialCode.KEY_COST_LIMIT_REACHED);
    }
    if (Batch.exceeds(Batch.usedTokens(keyCounter), tokens, big(key.token_limit), authorizing && tokens === 0n)) {
      return denied(DenialCode.KEY_TOKEN_LIMIT_REACHED);
    }
    if (identity?.budget_period && Batch.exceeds(Batch.usedCost(this.counter(identity.id, identity.budget_period, this.now)), cost, big(identity.budget), reserveNothing)) {
      return denied(DenialCode.IDENTITY_BUDGET_EXCEEDED);
    }
    if (key.project_id && key.project_budget_period) {
      const used = Batch.usedCost(this.counter(key.project_id, key.project_budget_period, this.now));
      if (Batch.exceeds(used, cost, big(key.project_budget), reserveNothing)) return denied(DenialCode.PROJECT_BUDGET_EXCEEDED);
    }
    const wallet = this.wallets.get(key.wallet_id)!;
    if (reserveNothing ? this.available(wallet) <= 0n : cost > this.available(wallet)) {
      wallet.refusedForCredits.push(index);
      return denied(DenialCode.INSUFFICIENT_CREDITS);
    }

    const subjects: Subjects = { keyId: key.id, identityId: identity?.id ?? null, projectId: key.project_id };
    const outcome: GatewayOutcome = { ...emptyOutcome(), allowed: true };
    if (authorizing) {
      wallet.heldDelta += cost;
      this.addToCounters(subjects, this.now, { dHeldCost: cost, dHeldTokens: tokens, dRequests: 1n });
      const hold = { id: newId('hold'), amount: cost, expiresAt: new Date(this.now.getTime() + this.holdTtlMs) };
      this.newHolds.push({
        id: hold.id,
        organization_id: key.organization_id,
        wallet_id: key.wallet_id,
        api_key_id: key.id,
        identity_id: subjects.identityId,
        project_id: key.project_id,
        model: request.model,
        input_price: String(price.inputPrice),
        output_price: String(price.outputPrice),
        markup_bps: key.markup_bps,
        amount: String(cost),
        tokens: String(tokens),
        created_at: this.now.toISOString(),
        expires_at: hold.expiresAt.toISOString(),
      });
      outcome.hold = hold;
    } else {
      this.addToCounters(subjects, this.now, { dCost: cost, dTokens: tokens, dRequests: 1n });
      outcome.cost = cost;
      outcome.charged = cost;
      outcome.transactionId = this.charge(wallet, key.wallet_id, cost, {
        description: `Usage: ${request.model}`,
        idempotencyKey: request.idempotencyKey,
        subjects,
        model: request.model,
        inputTokens,
        outputTokens,
        holdId: null,
      });
    }
    outcome.availableBalance = this.available(wallet);
    outcome.limits = this.limitsOf(key, window);
    return outcome;
  }

  private capture(request: CaptureRequest, index: number): GatewayOutcome {
    const hold = this.holds.get(request.holdId)!;
    const hash = fingerprint(request);
    const settled = this.settledState(hold);
    if (settled.status === 'RELEASED') return settled.hash === hash ? settled.response : denied(DenialCode.HOLD_NOT_ACTIVE);
    if (settled.status === 'CAPTURED') return settled.hash === hash ? settled.response : denied(DenialCode.IDEMPOTENCY_KEY_REUSED);
    const price = { inputPrice: BigInt(hold.input_price), outputPrice: BigInt(hold.output_price) };

    const wallet = this.wallets.get(hold.wallet_id)!;
    const { subjects, at } = this.subjectsOf(index);
    if (settled.status === 'ACTIVE') this.releaseHeld(hold, wallet, subjects, at);
    const cost = usageCost(request.inputTokens, request.outputTokens, price, hold.markup_bps);
    // The call has happened: charge it in full when the balance allows, else what is there
    // (DESIGN §6: up to the wallet's balance, even into what other holds reserve).
    const balance = wallet.balance + wallet.balanceDelta;
    const charged = cost <= balance ? cost : balance > 0n ? balance : 0n;
    this.addToCounters(subjects, at, { dCost: charged, dTokens: request.inputTokens + request.outputTokens });
    const outcome: GatewayOutcome = {
      ...emptyOutcome(),
      allowed: true,
      cost,
      charged,
      hold: { id: hold.id, amount: BigInt(hold.amount), expiresAt: hold.expires_at },
      transactionId: this.charge(wallet, hold.wallet_id, charged, {
        description: `Usage: ${hold.model}`,
        idempotencyKey: null,
        subjects,
        model: hold.model,
        inputTokens: request.inputTokens,
        outputTokens: request.outputTokens,
        holdId: hold.id,
      }),
    };
    outcome.availableBalance = this.available(wallet);
    this.settle(hold, 'CAPTURED', hash, outcome);
    return outcome;
  }

  private release(request: ReleaseRequest, index: number): GatewayOutcome {
    const hold = this.holds.get(request.holdId)!;
    const hash = fingerprint(request);
    const settled = this.settledState(hold);
    if (settled.status === 'CAPTURED') return denied(DenialCode.HOLD_NOT_ACTIVE);
    if (settled.status === 'RELEASED') return settled.response;
    const wallet = this.wallets.get(hold.wallet_id)!;
    if (settled.status === 'ACTIVE') {
      const { subjects, at } = this.subjectsOf(index);
      this.releaseHeld(hold, wallet, subjects, at);
    }
    const outcome: GatewayOutcome = {
      ...emptyOutcome(),
      allowed: true,
      hold: { id: hold.id, amount: BigInt(hold.amount), expiresAt: hold.expires_at },
      availableBalance: this.available(wallet),
    };
    this.settle(hold, 'RELEASED', hash, outcome);
    return outcome;
  }

  /** The hold's state as this batch has left it so far. */
  private settledState(hold: HoldRow): { status: HoldRow['status']; hash: string | null; response: GatewayOutcome } {
    const settled = this.settledHolds.get(hold.id);
    if (settled) return { status: settled.status as HoldRow['status'], hash: settled.hash, response: settled.response as GatewayOutcome };
    return {
      status: hold.status,
      hash: hold.settle_request_hash,
      response: hold.settle_response ? outcomeFromJson(hold.settle_response) : emptyOutcome(),
    };
  }

  private settle(hold: HoldRow, status: 'CAPTURED' | 'RELEASED', hash: string, outcome: GatewayOutcome): void {
    this.settledHolds.set(hold.id, { status, hash, response: outcome });
  }

  private releaseHeld(hold: HoldRow, wallet: WalletState, subjects: Subjects, at: Date): void {
    wallet.heldDelta -= BigInt(hold.amount);
    this.addToCounters(subjects, at, { dHeldCost: -BigInt(hold.amount), dHeldTokens: -BigInt(hold.tokens) });
  }

  /** Debits the wallet and adds the DEDUCTION row; nothing to record for a zero cost. */
  private charge(
    wallet: WalletState,
    walletId: string,
    amount: bigint,
    usage: { description: string; idempotencyKey: string | null; subjects: Subjects; model: string; inputTokens: bigint; outputTokens: bigint; holdId: string | null },
  ): string | null {
    if (amount === 0n) return null;
    wallet.balanceDelta -= amount;
    const id = this.nextTransactionId();
    wallet.transactionIds.push(id);
    this.ledgerRows.push({
      id,
      wallet_id: walletId,
      organization_id: wallet.organizationId,
      amount: (-amount).toString(),
      balance_after: (wallet.balance + wallet.balanceDelta).toString(),
      description: usage.description,
      idempotency_key: usage.idempotencyKey,
      api_key_id: usage.subjects.keyId,
      identity_id: usage.subjects.identityId,
      project_id: usage.subjects.projectId,
      model: usage.model,
      input_tokens: usage.inputTokens.toString(),
      output_tokens: usage.outputTokens.toString(),
      hold_id: usage.holdId,
    });
    return id;
  }

  private retryAfter(window: RateWindow): number {
    // The window frees a slot when its oldest second slides out.
    const oldest = Math.min(...window.seconds.keys(), this.nowSecond);
    return Math.max(1, oldest + RATE_WINDOW_SECONDS - this.nowSecond);
  }

  private limitsOf(key: KeyRow, window: RateWindow | undefined): KeyLimits {
    const counter = this.counter(key.id, key.limit_period, this.now);
    return {
      costRemaining: remaining(big(key.cost_limit), Batch.usedCost(counter)),
      tokensRemaining: remaining(big(key.token_limit), Batch.usedTokens(counter)),
      requestsRemaining: window ? Math.max(0, window.limit - window.used) : null,
      resetAt: this.period(key.limit_period, this.now).end,
    };
  }

  private copyDuplicates(): void {
    for (const [index, first] of this.firstWithKey) {
      this.outcomes[index] =
        this.requestHashes.get(index) === this.requestHashes.get(first) ? this.outcomes[first] : denied(DenialCode.IDEMPOTENCY_KEY_REUSED);
    }
  }

  // ---- writes ------------------------------------------------------------------------------

  /**
   * Everything the batch decided, in one statement: balances by delta under their guard, ledger
   * rows, counters, the rate window, holds, and the answers under their idempotency keys. An
   * answer that another batch stored first under the same key means this batch must run again;
   * either check failing stops the statement before its COMMIT.
   */
  private async write(): Promise<void> {
    const walletChanges = [...this.wallets.entries()]
      .filter(([, wallet]) => wallet.balanceDelta !== 0n || wallet.heldDelta !== 0n)
      .map(([id, wallet]) => ({ id, delta: String(wallet.balanceDelta), held_delta: String(wallet.heldDelta) }));
    const counterChanges = [...this.counters.entries()]
      .filter(([, c]) => c.dCost || c.dTokens || c.dRequests || c.dHeldCost || c.dHeldTokens)
      .map(([id, c]) => {
        const [subjectId, period, startMs] = id.split('|');
        return {
          subject_id: subjectId,
          period,
          period_start: new Date(Number(startMs)).toISOString(),
          cost: String(c.dCost),
          tokens: String(c.dTokens),
          requests: String(c.dRequests),
          held_cost: String(c.dHeldCost),
          held_tokens: String(c.dHeldTokens),
        };
      });
    const rateChanges = [...this.rateWindows.entries()].filter(([, w]) => w.added > 0).map(([id, w]) => ({ api_key_id: id, requests: w.added }));
    const settled = [...this.settledHolds.entries()].map(([id, s]) => ({
      id,
      status: s.status,
      hash: s.hash,
      response: outcomeToJson(s.response as GatewayOutcome),
    }));
    // Only what was done is remembered: a refusal changed nothing, so its retry (after the
    // Retry-After, or a top-up) is judged afresh. Sorted, so that batches claim keys in one order.
    const answers = [...this.pending].flatMap((index) => {
      const request = this.requests[index];
      if ((request.kind !== 'debit' && request.kind !== 'authorize') || !this.outcomes[index].allowed) return [];
      const key = this.keys.get(index)!;
      return [
        {
          organization_id: key.organization_id,
          key: request.idempotencyKey,
          operation: `gateway.${request.kind}`,
          request_hash: this.requestHashes.get(index),
          response: outcomeToJson(this.outcomes[index]),
        },
      ];
    });
    answers.sort((a, b) => (a.organization_id === b.organization_id ? (a.key < b.key ? -1 : 1) : a.organization_id < b.organization_id ? -1 : 1));

    const wallets = recordset({ id: 'text', delta: 'bigint', held_delta: 'bigint' }, walletChanges);
    const ledger = recordset(
      {
        id: 'text',
        wallet_id: 'text',
        organization_id: 'text',
        amount: 'bigint',
        balance_after: 'bigint',
        description: 'text',
        idempotency_key: 'text',
        api_key_id: 'text',
        identity_id: 'text',
        project_id: 'text',
        model: 'text',
        input_tokens: 'bigint',
        output_tokens: 'bigint',
        hold_id: 'text',
      },
      this.ledgerRows,
    );
    const counters = recordset(
      {
        subject_id: 'text',
        period: 'text',
        period_start: 'timestamptz',
        cost: 'bigint',
        tokens: 'bigint',
        requests: 'bigint',
        held_cost: 'bigint',
        held_tokens: 'bigint',
      },
      counterChanges,
    );
    const rates = recordset({ api_key_id: 'text', requests: 'integer' }, rateChanges);
    const holds = recordset(
      {
        id: 'text',
        organization_id: 'text',
        wallet_id: 'text',
        api_key_id: 'text',
        identity_id: 'text',
        project_id: 'text',
        model: 'text',
        input_price: 'bigint',
        output_price: 'bigint',
        markup_bps: 'integer',
        amount: 'bigint',
        tokens: 'bigint',
        created_at: 'timestamptz',
        expires_at: 'timestamptz',
      },
      this.newHolds,
    );
    const settledHolds = recordset({ id: 'text', status: 'text', hash: 'text', response: 'jsonb' }, settled);
    const answered = recordset({ organization_id: 'text', key: 'text', operation: 'text', request_hash: 'text', response: 'jsonb' }, answers);
    // Thresholds are only looked at when the batch took a wallet below its highest armed one.
    const crossed = [...this.wallets.entries()]
      .filter(([, wallet]) => wallet.alertThreshold !== null && wallet.balance + wallet.balanceDelta < wallet.alertThreshold)
      .map(([id, wallet]) => ({ wallet_id: id, balance: String(wallet.balance + wallet.balanceDelta) }));
    const lowBalance = crossed.length > 0 ? recordset({ wallet_id: 'text', balance: 'bigint' }, crossed) : null;
    // Refusals for lack of credits below the auto top-up threshold: is a top-up coming?
    const awaitingTopUp =
      this.topUpDailyLimit === null
        ? []
        : [...this.wallets.entries()].filter(([, wallet]) => wallet.refusedForCredits.length > 0 && Batch.isBelowTopUpThreshold(wallet)).map(([id]) => id);

    const [{ alerts, top_ups_under_way: topUpsUnderWay }] = await this.commitWith<{ alerts: LowBalanceAlertEvent[] | null; top_ups_under_way: string[] | null }>(
      `with ${lowBalance ? `${lowBalanceCtes(lowBalance.from)},` : ''}
       wallet_changes as (
         update wallets w set balance = w.balance + x.delta, held = w.held + x.held_delta
           from ${wallets.from}
          where w.id = x.id and (x.delta >= 0 or w.balance + x.delta >= 0)
          returning w.id),
       ledger as (
         insert into transactions (id, wallet_id, organization_id, type, amount, balance_after, description, actor,
                                   idempotency_key, api_key_id, identity_id, project_id, model, input_tokens,
                                   output_tokens, hold_id, created_at)
         select id, wallet_id, organization_id, 'DEDUCTION', amount, balance_after, description, 'gateway',
                idempotency_key, api_key_id, identity_id, project_id, model, input_tokens, output_tokens, hold_id, ?::timestamptz
           from ${ledger.from}
         returning wallet_id, api_key_id, identity_id, project_id, model, amount, input_tokens, output_tokens, created_at),
       usage_rolled as (
         insert into usage_hourly (wallet_id, hour, api_key_id, identity_id, project_id, model, cost, input_tokens, output_tokens, requests)
         select wallet_id, date_trunc('hour', created_at, 'UTC'), api_key_id, identity_id, project_id, model,
                -sum(amount), sum(input_tokens), sum(output_tokens), count(*)
           from ledger
          group by 1, 2, 3, 4, 5, 6
         on conflict on constraint usage_hourly_key do update
            set cost = usage_hourly.cost + excluded.cost, input_tokens = usage_hourly.input_tokens + excluded.input_tokens,
                output_tokens = usage_hourly.output_tokens + excluded.output_tokens, requests = usage_hourly.requests + excluded.requests),
       counter_changes as (
         update usage_counters c
            set cost = c.cost + x.cost, tokens = c.tokens + x.tokens, requests = c.requests + x.requests,
                held_cost = c.held_cost + x.held_cost, held_tokens = c.held_tokens + x.held_tokens
           from ${counters.from}
          where c.subject_id = x.subject_id and c.period = x.period and c.period_start = x.period_start),
       rate_counted as (
         insert into rate_windows (api_key_id, second, requests)
         select api_key_id, ?::bigint, requests from ${rates.from}
         on conflict (api_key_id, second) do update set requests = rate_windows.requests + excluded.requests),
       rate_forgotten as (
         delete from rate_windows where api_key_id in (select unnest(?::text[])) and second <= ?::bigint),
       new_holds as (
         insert into holds (id, organization_id, wallet_id, api_key_id, identity_id, project_id, model, input_price,
                            output_price, markup_bps, amount, tokens, status, created_at, expires_at)
         select id, organization_id, wallet_id, api_key_id, identity_id, project_id, model, input_price, output_price,
                markup_bps, amount, tokens, 'ACTIVE', created_at, expires_at
           from ${holds.from}),
       settled_holds as (
         update holds h set status = x.status, settled_at = ?::timestamptz, settle_request_hash = x.hash, settle_response = x.response
           from ${settledHolds.from}
          where h.id = x.id),
       answered as (
         insert into idempotency_keys (organization_id, key, operation, request_hash, response)
         select organization_id, key, operation, request_hash, response from ${answered.from}
         on conflict do nothing
         returning key)
       select tollgate_expect((select count(*) from wallet_changes) = ?::bigint, 'a wallet changed under its lock')
          and tollgate_expect((select count(*) from answered) = ?::bigint, '${IDEMPOTENCY_RACE}') as written,
              ${lowBalance ? LOW_BALANCE_ALERTS_JSON : 'null'} as alerts,
              ${awaitingTopUp.length > 0 ? TOP_UPS_UNDER_WAY : 'null'} as top_ups_under_way`,
      [
        ...(lowBalance?.params ?? []),
        ...wallets.params,
        this.now,
        ...ledger.params,
        ...counters.params,
        this.nowSecond,
        ...rates.params,
        textArray(rateChanges.map((change) => change.api_key_id)),
        this.nowSecond - RATE_WINDOW_SECONDS,
        ...holds.params,
        this.now,
        ...settledHolds.params,
        ...answered.params,
        walletChanges.length,
        answers.length,
        ...(awaitingTopUp.length > 0 ? [textArray(awaitingTopUp), this.topUpDailyLimit] : []),
      ],
    );
    this.lowBalanceAlerts = alerts ?? [];
    // Refusals are not stored, so they can still learn it: the gateway may retry once the top-up is in.
    for (const walletId of topUpsUnderWay ?? []) {
      for (const index of this.wallets.get(walletId)!.refusedForCredits) this.outcomes[index] = denied(DenialCode.INSUFFICIENT_CREDITS, TOP_UP_RETRY_AFTER_SECONDS);
    }
  }

  private belowTopUpThreshold(): string[] {
    return [...this.wallets.entries()]
      .filter(([, wallet]) => (wallet.balanceDelta < 0n || wallet.refusedForCredits.length > 0) && Batch.isBelowTopUpThreshold(wallet))
      .map(([walletId]) => walletId);
  }

  private static isBelowTopUpThreshold(wallet: WalletState): boolean {
    return wallet.topUpThreshold !== null && wallet.balance + wallet.balanceDelta < wallet.topUpThreshold;
  }

  /** One event per wallet whose balance moved, carrying its final balance and its new ledger rows. */
  private events(): WalletEvents[] {
    return [...this.wallets.entries()]
      .filter(([, wallet]) => wallet.balanceDelta !== 0n && wallet.transactionIds.length > 0)
      .map(([walletId, wallet]) => ({
        balance: {
          walletId,
          organizationId: wallet.organizationId,
          balance: wallet.balance + wallet.balanceDelta,
          held: wallet.held + wallet.heldDelta,
          change: wallet.balanceDelta,
          transactionId: wallet.transactionIds[wallet.transactionIds.length - 1],
        },
        recorded: { walletId, transactions: wallet.transactionIds.map((id) => ({ id, type: 'DEDUCTION' })) },
      }));
  }
}
