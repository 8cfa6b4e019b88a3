import type { EntityManager } from '@mikro-orm/postgresql';
import { Transaction } from '../../entities';
import { DomainError, UserErrorCode } from '../errors';
import { publishLowBalanceAlerts, lowBalanceCtes, LOW_BALANCE_ALERTS_JSON } from '../alerts/low-balance';
import { bigintOrNull, type ColumnType, recordset, textArray } from '../db/recordset';
import { raw, type Sql, sql, type Statement } from '../db/sql';
import { type EventBus, type LowBalanceAlertEvent, TOPICS } from '../realtime/pubsub';
import { BalanceOutOfRange, GuardRefusal, type LedgerEntry, LedgerPlan, type LockedWallet, type PlannedRow } from './plan';

export { Guard, type LedgerEntry, type LockedWallet, LedgerPlan } from './plan';

/**
 * THE ONE WRITER of balances and ledger rows (DESIGN §4). A posting is worked out in memory
 * against its wallets as locked (`LedgerPlan`: the guard rule, balances after, row ids) and
 * written by one set-based statement (`ledgerWrite`): balances move by their deltas, rows are
 * inserted, the usage rollup and the low-balance thresholds are kept, and the alerts fired come
 * back. Services post with `postEntries`; the gateway batch plans its own charges and splices
 * `ledgerWrite` into the statement that commits the rest of its decisions.
 */

export function runOn(tx: EntityManager): Sql {
  return <T>(statement: Statement) => tx.execute<T[]>(statement.text, [...statement.params]);
}

/** Per wallet whose balance a posting moved: where it ended, and the rows that moved it. */
export interface WalletChange {
  walletId: string;
  organizationId: string;
  balance: bigint;
  held: bigint;
  creditLimit: bigint;
  change: bigint;
  transactions: Array<{ id: string; type: string }>;
}

/** What one committed posting did: its rows, per wallet, and what it set off. */
export interface Posting {
  /** The ids of the rows, in the order of the entries. */
  transactionIds: string[];
  wallets: WalletChange[];
  lowBalanceAlerts: LowBalanceAlertEvent[];
  /** Wallets with auto top-up on that the posting left below their threshold (or that must be looked at). */
  belowTopUpThreshold: string[];
}

/** Starts auto top-ups for wallets left below their threshold (src/payments/auto-top-up.worker.ts); never throws. */
export interface TopUpTrigger {
  walletsBelowThreshold(walletIds: string[]): void;
}

/** Who hears of a committed posting: subscribers, and auto top-up where this server makes them. */
export interface PostingListeners {
  bus: EventBus;
  autoTopUps?: TopUpTrigger | null;
}

/**
 * Locks wallets for a change of their balance, in id order like every writer of balances, so
 * that writers of the same wallets queue instead of deadlocking, and reads what a posting is
 * planned against. The lock leaves rows that merely refer to a wallet (holds, purchases) free to
 * be inserted.
 */
export function lockWalletsStatement(walletIds: Iterable<string>): Statement {
  return sql`select id, organization_id, balance::text as balance, held::text as held,
                    (select o.credit_limit::text from organizations o where o.id = wallets.organization_id) as credit_limit,
                    case when auto_top_up_enabled then auto_top_up_threshold::text end as top_up_threshold,
                    (select max(t.amount)::text from low_balance_thresholds t where t.wallet_id = wallets.id and t.armed) as alert_threshold
               from wallets
              where id in (select unnest(${textArray([...new Set(walletIds)].sort())}::text[])) order by id for no key update`;
}

export interface LockedWalletRow {
  id: string;
  organization_id: string;
  balance: string;
  held: string;
  credit_limit: string;
  top_up_threshold: string | null;
  alert_threshold: string | null;
}

export function lockedWallet(row: LockedWalletRow): LockedWallet {
  return {
    id: row.id,
    organizationId: row.organization_id,
    balance: BigInt(row.balance),
    held: BigInt(row.held),
    creditLimit: BigInt(row.credit_limit),
    topUpThreshold: bigintOrNull(row.top_up_threshold),
    alertThreshold: bigintOrNull(row.alert_threshold),
  };
}

export async function lockWallets(tx: EntityManager, walletIds: Iterable<string>): Promise<LockedWallet[]> {
  return (await runOn(tx)<LockedWalletRow>(lockWalletsStatement(walletIds))).map(lockedWallet);
}

/** The ledger's columns, as a posting sends them; the first eight are never null. */
const ROW_COLUMNS = {
  id: 'text',
  wallet_id: 'text',
  organization_id: 'text',
  type: 'text',
  amount: 'bigint',
  balance_after: 'bigint',
  description: 'text',
  actor: 'text',
  counterparty_wallet_id: 'text',
  idempotency_key: 'text',
  api_key_id: 'text',
  identity_id: 'text',
  project_id: 'text',
  model: 'text',
  input_tokens: 'bigint',
  output_tokens: 'bigint',
  hold_id: 'text',
  routing_mode: 'text',
  cached_input_tokens: 'bigint',
  cache_write_tokens: 'bigint',
  reasoning_tokens: 'bigint',
  images: 'bigint',
  provider_cost: 'bigint',
  markup: 'bigint',
  provider_reported: 'boolean',
  member_id: 'text',
  meter: 'text',
  meter_quantity: 'bigint',
} as const satisfies Record<string, ColumnType>;
type RowColumn = keyof typeof ROW_COLUMNS;
const ALWAYS_SENT = new Set<RowColumn>(['id', 'wallet_id', 'organization_id', 'type', 'amount', 'balance_after', 'description', 'actor']);

/** What a model call left at its default is stored as null: DIRECT routing, nothing cached, no reasoning, no image, the catalog's price. */
const unlessZero = (value: bigint | undefined) => (value ? String(value) : null);

function rowValues(row: PlannedRow): Record<RowColumn, string | boolean | null> {
  const { usage, metered } = row;
  const subjects = usage ?? metered;
  return {
    id: row.id,
    wallet_id: row.walletId,
    organization_id: row.organizationId,
    type: row.type,
    amount: String(row.amount),
    balance_after: String(row.balanceAfter),
    description: row.description,
    actor: row.actor,
    counterparty_wallet_id: row.counterpartyWalletId ?? null,
    idempotency_key: row.idempotencyKey ?? null,
    api_key_id: subjects?.apiKeyId ?? null,
    identity_id: subjects?.identityId ?? null,
    project_id: subjects?.projectId ?? null,
    model: usage?.model ?? null,
    input_tokens: usage ? String(usage.inputTokens) : null,
    output_tokens: usage ? String(usage.outputTokens) : null,
    hold_id: usage?.holdId ?? null,
    routing_mode: usage && usage.routingMode !== 'DIRECT' ? usage.routingMode : null,
    cached_input_tokens: unlessZero(usage?.cachedInputTokens),
    cache_write_tokens: unlessZero(usage?.cacheWriteTokens),
    reasoning_tokens: unlessZero(usage?.reasoningTokens),
    images: unlessZero(usage?.images),
    provider_cost: usage ? String(usage.providerCost) : null,
    markup: usage ? String(usage.markup) : null,
    provider_reported: usage?.providerReported ? true : null,
    member_id: subjects?.memberId ?? null,
    meter: metered?.meter ?? null,
    meter_quantity: metered ? String(metered.quantity) : null,
  };
}

/**
 * The ledger's part of the statement that commits a posting: common table expressions (with no
 * leading `with`), a check that is false when a wallet is not as it was locked, and the
 * low-balance alerts fired (a jsonb array). `postedAt` dates the rows; by default they get the
 * database's clock, read once, after the balances are locked, so that the posting's rows tie and
 * list in id order.
 */
export function ledgerWrite(plan: LedgerPlan, postedAt: Date | null): { ctes: Statement; check: Statement; alerts: Statement } {
  const accounts = [...plan.accounts.values()];
  const changed = accounts.filter((account) => account.changed);
  const wallets = recordset(
    { id: 'text', balance_before: 'bigint', held_before: 'bigint', delta: 'bigint', held_delta: 'bigint' },
    changed.map(({ locked, balance, held }) => ({
      id: locked.id,
      balance_before: String(locked.balance),
      held_before: String(locked.held),
      delta: String(balance - locked.balance),
      held_delta: String(held - locked.held),
    })),
  );
  // A column null in every row is left to its default: a posting of plain calls (the hot path)
  // sends and parses none of what they did not use.
  const values = plan.rows.map(rowValues);
  const columns = (Object.keys(ROW_COLUMNS) as RowColumn[]).filter((column) => ALWAYS_SENT.has(column) || values.some((row) => row[column] !== null));
  const rows = recordset(Object.fromEntries(columns.map((column) => [column, ROW_COLUMNS[column]])), values);
  const inQuestion = accounts.filter((account) => account.lowBalanceInQuestion);
  const lowBalance =
    inQuestion.length > 0
      ? // Thresholds are judged on what is left to spend: the balance and the credit line.
        recordset({ wallet_id: 'text', balance: 'bigint' }, inQuestion.map((account) => ({ wallet_id: account.locked.id, balance: String(account.chargeable) })))
      : null;
  const ctes = sql`
       ledger_wallets as (
         update wallets w set balance = w.balance + x.delta, held = w.held + x.held_delta
           from ${wallets}
          where w.id = x.id and w.balance = x.balance_before and w.held = x.held_before
          returning w.id),
       ledger_rows as (
         insert into transactions (${raw(columns.join(', '))}, created_at)
         select x.*, posted_at.t
           from ${rows}
          cross join (select coalesce(${postedAt}::timestamptz, clock_timestamp()) as t) as posted_at
         returning wallet_id, api_key_id, identity_id, project_id, model, member_id, meter, amount, input_tokens, output_tokens, provider_cost,
                   markup, created_at),
       ledger_usage as (
         insert into usage_hourly (wallet_id, hour, api_key_id, identity_id, project_id, model, member_id, meter, cost, input_tokens,
                                   output_tokens, requests, provider_cost, markup)
         select wallet_id, date_trunc('hour', created_at, 'UTC'), api_key_id, identity_id, project_id, model, member_id, meter,
                -sum(amount), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), count(model), coalesce(sum(provider_cost), 0),
                coalesce(sum(markup), 0)
           from ledger_rows
          where api_key_id is not null
          group by 1, 2, 3, 4, 5, 6, 7, 8
         on conflict on constraint usage_hourly_key do update
            set cost = usage_hourly.cost + excluded.cost, input_tokens = usage_hourly.input_tokens + excluded.input_tokens,
                output_tokens = usage_hourly.output_tokens + excluded.output_tokens, requests = usage_hourly.requests + excluded.requests,
                provider_cost = usage_hourly.provider_cost + excluded.provider_cost, markup = usage_hourly.markup + excluded.markup)${
                  lowBalance ? sql`,\n       ${lowBalanceCtes(lowBalance)}` : raw('')
                }`;
  return {
    ctes,
    check: sql`tollgate_expect((select count(*) from ledger_wallets) = ${changed.length}::bigint, 'a wallet changed under its lock')`,
    alerts: lowBalance ? raw(LOW_BALANCE_ALERTS_JSON) : raw(`'[]'::jsonb`),
  };
}

/** What a committed plan did, for `publishPosted`; `alsoBelowTopUpThreshold` adds wallets the caller found there. */
export function postingOf(plan: LedgerPlan, lowBalanceAlerts: LowBalanceAlertEvent[], alsoBelowTopUpThreshold: string[] = []): Posting {
  const wallets = [...plan.accounts.values()]
    .filter((account) => account.rows.length > 0)
    .map((account) => ({
      walletId: account.locked.id,
      organizationId: account.locked.organizationId,
      balance: account.balance,
      held: account.held,
      creditLimit: account.locked.creditLimit,
      change: account.balance - account.locked.balance,
      transactions: account.rows.map((row) => ({ id: row.id, type: row.type })),
    }));
  return {
    transactionIds: plan.rows.map((row) => row.id),
    wallets,
    lowBalanceAlerts,
    belowTopUpThreshold: [...new Set([...plan.belowTopUpThreshold(), ...alsoBelowTopUpThreshold])],
  };
}

/**
 * Posts `entries` in the caller's transaction (`tx`): the balance changes and their rows commit
 * or roll back together. A debit its guard refuses is INSUFFICIENT_FUNDS and changes nothing.
 */
export async function postEntries(tx: EntityManager, entries: LedgerEntry[], postedAt?: Date): Promise<Posting> {
  const run = runOn(tx);
  const plan = new LedgerPlan(await lockWallets(tx, entries.map((entry) => entry.walletId)));
  for (const entry of entries) {
    try {
      plan.post(entry);
    } catch (error) {
      if (error instanceof GuardRefusal) {
        throw new DomainError(UserErrorCode.INSUFFICIENT_FUNDS, 'Insufficient credits: the balance cannot cover this amount', ['input', 'amount']);
      }
      if (error instanceof BalanceOutOfRange) throw new DomainError(UserErrorCode.BALANCE_OUT_OF_RANGE, 'The resulting balance would be out of range');
      throw error;
    }
  }
  const write = ledgerWrite(plan, postedAt ?? null);
  const [{ alerts }] = await run<{ alerts: LowBalanceAlertEvent[] }>(sql`with ${write.ctes} select ${write.check} as written, ${write.alerts} as alerts`);
  return postingOf(plan, alerts);
}

/**
 * Tells subscribers the balances a posting left (one event per wallet: its final balance and its
 * new rows) and the alerts it fired, and starts the auto top-ups of the wallets it left below
 * their threshold. The one publisher of what the ledger committed; call it after the commit.
 */
export function publishPosted({ bus, autoTopUps }: PostingListeners, posting: Posting): void {
  for (const wallet of posting.wallets) {
    bus.publish(TOPICS.walletBalanceChanged, wallet.walletId, {
      walletId: wallet.walletId,
      organizationId: wallet.organizationId,
      balance: wallet.balance,
      held: wallet.held,
      creditLimit: wallet.creditLimit,
      change: wallet.change,
      transactionId: wallet.transactions[wallet.transactions.length - 1].id,
    });
    bus.publish(TOPICS.transactionRecorded, wallet.walletId, { walletId: wallet.walletId, transactions: wallet.transactions });
  }
  publishLowBalanceAlerts(bus, posting.lowBalanceAlerts);
  if (posting.belowTopUpThreshold.length > 0) autoTopUps?.walletsBelowThreshold(posting.belowTopUpThreshold);
}

/** Loads posted rows as entities, in the order given. */
export async function loadTransactions(em: EntityManager, ids: string[]): Promise<Transaction[]> {
  const rows = await em.find(Transaction, { id: { $in: ids } });
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id)!);
}
