import type { EntityManager } from '@mikro-orm/postgresql';
import { Transaction, TransactionType } from '../../entities';
import { DomainError, UserErrorCode } from '../errors';
import { idSequence } from '../ids';
import { publishLowBalanceAlerts, settleLowBalance } from '../alerts/low-balance';
import { type EventBus, type LowBalanceAlertEvent, TOPICS } from '../realtime/pubsub';

export interface LedgerEntry {
  walletId: string;
  type: TransactionType;
  /** Signed nano-USD, never zero: credits positive, debits negative. */
  amount: bigint;
  description: string;
  actor: string;
  counterpartyWalletId?: string;
  idempotencyKey?: string;
  /** A debit that must be recorded even below zero (a refund of spent credits); the wallet then spends nothing until topped up. */
  mayOverdraw?: boolean;
}

export interface PostedEntry {
  transactionId: string;
  walletId: string;
  type: TransactionType;
  amount: bigint;
  balanceAfter: bigint;
  /** What the wallet's active holds reserved at that point. */
  heldAfter: bigint;
}

/** What one call of `postEntries` did: its rows, and the low-balance alerts the new balances fired. */
export interface Posting {
  entries: PostedEntry[];
  lowBalanceAlerts: LowBalanceAlertEvent[];
  /** Wallets with auto top-up on that a debit of the posting left below their threshold. */
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

const NUMERIC_VALUE_OUT_OF_RANGE = '22003';

/**
 * The only code that writes balances and ledger rows. Runs inside the caller's transaction
 * (`tx`), so the balance change and its ledger row commit or roll back together.
 *
 * Each balance moves by one atomic `balance = balance + delta` whose guard refuses to take
 * it below zero; wallets are updated in id order so that two transfers in opposite directions
 * lock in the same order and cannot deadlock.
 *
 * `postedAt` dates the rows (the demo's past); by default they get the database's clock.
 */
export async function postEntries(tx: EntityManager, entries: LedgerEntry[], postedAt?: Date): Promise<Posting> {
  const lockOrder = entries
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => (a.entry.walletId < b.entry.walletId ? -1 : a.entry.walletId > b.entry.walletId ? 1 : a.index - b.index));

  const posted: PostedEntry[] = new Array(entries.length);
  // Rows posted together share a timestamp; ids in posting order keep (created_at, id) in it.
  const nextTransactionId = idSequence('transaction');
  /** Per wallet debited: whether its last change left it below its auto top-up threshold. */
  const debited = new Map<string, boolean>();
  for (const { entry, index } of lockOrder) {
    const { balanceAfter, heldAfter, belowTopUpThreshold } = await applyDelta(tx, entry.walletId, entry.amount, entry.mayOverdraw ?? false);
    posted[index] = { transactionId: nextTransactionId(), walletId: entry.walletId, type: entry.type, amount: entry.amount, balanceAfter, heldAfter };
    if (entry.amount < 0n || debited.has(entry.walletId)) debited.set(entry.walletId, belowTopUpThreshold);
  }

  const rows = entries.map((entry, index) => [
    posted[index].transactionId,
    entry.walletId,
    entry.type,
    entry.amount.toString(),
    posted[index].balanceAfter.toString(),
    entry.description,
    entry.counterpartyWalletId ?? null,
    entry.actor,
    entry.idempotencyKey ?? null,
  ]);
  // One timestamp for the whole posting, taken after its balances are locked, so that its rows
  // tie and list in id order.
  await tx.execute(
    `insert into transactions
       (id, wallet_id, organization_id, type, amount, balance_after, description,
        counterparty_wallet_id, actor, idempotency_key, created_at)
     select v.id, v.wallet_id, w.organization_id, v.type, v.amount::bigint, v.balance_after::bigint,
            v.description, v.counterparty_wallet_id, v.actor, v.idempotency_key, posted_at.t
       from (values ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')})
            as v (id, wallet_id, type, amount, balance_after, description, counterparty_wallet_id, actor, idempotency_key)
       join wallets w on w.id = v.wallet_id
       cross join (select coalesce(?::timestamptz, clock_timestamp()) as t) as posted_at`,
    [...rows.flat(), postedAt?.toISOString() ?? null],
  );
  const lowBalanceAlerts = await settleLowBalance(tx, [...new Set(entries.map((entry) => entry.walletId))]);
  const belowTopUpThreshold = [...debited].filter(([, below]) => below).map(([walletId]) => walletId);
  return { entries: posted, lowBalanceAlerts, belowTopUpThreshold };
}

/**
 * Locks wallets for a change of their balance, in id order like every writer of balances (the
 * gateway batch too), so that writers of the same wallets queue instead of deadlocking. The lock
 * leaves rows that merely refer to a wallet (holds, purchases) free to be inserted.
 */
export async function lockWallets(tx: EntityManager, walletIds: string[]): Promise<void> {
  await tx.execute('select id from wallets where id in (?) order by id for no key update', [[...new Set(walletIds)]]);
}

async function applyDelta(
  tx: EntityManager,
  walletId: string,
  delta: bigint,
  mayOverdraw: boolean,
): Promise<{ balanceAfter: bigint; heldAfter: bigint; belowTopUpThreshold: boolean }> {
  // Credits are never refused; a debit only applies while the balance, less what active
  // gateway holds reserve, covers it.
  const guarded = delta < 0n && !mayOverdraw;
  const guard = guarded ? 'and balance - held + ?::bigint >= 0' : '';
  const params = guarded ? [delta.toString(), walletId, delta.toString()] : [delta.toString(), walletId];
  let result: Array<{ balance: string; held: string; below_top_up_threshold: boolean }>;
  try {
    result = await tx.execute(
      `update wallets set balance = balance + ?::bigint where id = ? ${guard}
       returning balance, held, coalesce(auto_top_up_enabled and balance < auto_top_up_threshold, false) as below_top_up_threshold`,
      params,
    );
  } catch (error) {
    if ((error as { code?: string }).code === NUMERIC_VALUE_OUT_OF_RANGE) {
      throw new DomainError(UserErrorCode.BALANCE_OUT_OF_RANGE, 'The resulting balance would be out of range');
    }
    throw error;
  }
  if (result.length === 0) {
    throw new DomainError(UserErrorCode.INSUFFICIENT_FUNDS, 'Insufficient credits: the balance cannot cover this amount', ['input', 'amount']);
  }
  return { balanceAfter: BigInt(result[0].balance), heldAfter: BigInt(result[0].held), belowTopUpThreshold: result[0].below_top_up_threshold };
}

/**
 * Tells subscribers the balances a posting left and the alerts it fired, and starts the auto
 * top-ups of the wallets it left below their threshold; call it after its commit.
 */
export function publishPosted({ bus, autoTopUps }: PostingListeners, organizationId: string, posting: Posting): void {
  for (const entry of posting.entries) {
    bus.publish(TOPICS.walletBalanceChanged, entry.walletId, {
      walletId: entry.walletId,
      organizationId,
      balance: entry.balanceAfter,
      held: entry.heldAfter,
      change: entry.amount,
      transactionId: entry.transactionId,
    });
    bus.publish(TOPICS.transactionRecorded, entry.walletId, { walletId: entry.walletId, transactions: [{ id: entry.transactionId, type: entry.type }] });
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
