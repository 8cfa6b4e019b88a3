import type { TransactionType } from '../../entities';
import { idSequence } from '../ids';
import type { CallQuantities } from '../pricing/cost';

/**
 * How far a debit may take a wallet: the one guard rule of every debit (DESIGN §4). An
 * organization's credit line (enterprise accounts) lets each of its wallets go down to minus its
 * limit: it counts as balance for `AVAILABLE` and `BALANCE`.
 * - `AVAILABLE`: spending; only what the balance (and the credit line) holds beyond the active
 *   holds' reservations.
 * - `BALANCE`: settling a call that already happened (a gateway capture); into what other holds
 *   reserve, but never below zero (minus the credit limit).
 * - `OVERDRAW`: recording what must be recorded even below that (a refund of spent credits); the
 *   wallet then spends nothing until topped up.
 * Credits are never refused.
 */
export enum Guard {
  AVAILABLE = 'AVAILABLE',
  BALANCE = 'BALANCE',
  OVERDRAW = 'OVERDRAW',
}

/** The most a debit under `guard` may take from a wallet; null when nothing bounds it. */
export function spendable(balance: bigint, held: bigint, creditLimit: bigint, guard: Guard): bigint | null {
  switch (guard) {
    case Guard.AVAILABLE:
      return balance - held + creditLimit;
    case Guard.BALANCE:
      return balance + creditLimit;
    case Guard.OVERDRAW:
      return null;
  }
}

/** Who a gateway charge counts against: the usage rollup's keys. */
export interface ChargeSubjects {
  apiKeyId: string;
  identityId: string | null;
  projectId: string | null;
  /** The member who owns the key at the time of the charge. */
  memberId: string | null;
}

/** What a model call charged: who it counts against, what it used, how its cost splits. */
export interface Usage extends CallQuantities, ChargeSubjects {
  model: string;
  routingMode: string;
  holdId: string | null;
  /** The row's amount = provider cost + markup. */
  providerCost: bigint;
  markup: bigint;
  /** The provider reported its cost (bring-your-own-key, tools), rather than the catalog pricing the usage. */
  providerReported: boolean;
}

export interface MeteredUsage extends ChargeSubjects {
  meter: string;
  quantity: bigint;
}

export interface LedgerEntry {
  walletId: string;
  type: TransactionType;
  /** Signed nano-USD, never zero: credits positive, debits negative. */
  amount: bigint;
  description: string;
  actor: string;
  counterpartyWalletId?: string | null;
  idempotencyKey?: string | null;
  usage?: Usage | null;
  /** A metered extra's charge: the units of one report beyond the allowance. */
  metered?: MeteredUsage | null;
  /** For a debit; `AVAILABLE` unless said otherwise. */
  guard?: Guard;
}

/** A wallet as its lock found it. */
export interface LockedWallet {
  id: string;
  organizationId: string;
  balance: bigint;
  held: bigint;
  /** The organization's credit line: the wallet may go down to minus this (0: none). */
  creditLimit: bigint;
  /** The auto top-up threshold, when auto top-up is on. */
  topUpThreshold: bigint | null;
  /** The highest armed low-balance threshold, if any: a balance below it fires alerts. */
  alertThreshold: bigint | null;
}

export interface PlannedRow extends LedgerEntry {
  id: string;
  organizationId: string;
  balanceAfter: bigint;
}

/** A locked wallet and what the posting does to it so far. */
export class WalletAccount {
  balance: bigint;
  held: bigint;
  /** This posting's rows of the wallet, in order. */
  readonly rows: PlannedRow[] = [];
  credited = false;

  constructor(readonly locked: LockedWallet) {
    this.balance = locked.balance;
    this.held = locked.held;
  }

  /** What may still be spent: the balance less the holds, plus the credit line. */
  get available(): bigint {
    return spendable(this.balance, this.held, this.locked.creditLimit, Guard.AVAILABLE)!;
  }

  /** What a capture may still charge: down to minus the credit limit, never below. */
  get chargeable(): bigint {
    return spendable(this.balance, this.held, this.locked.creditLimit, Guard.BALANCE)!;
  }

  /** Whether a debit of `amount` (positive) passes the guard rule now. */
  covers(amount: bigint, guard: Guard = Guard.AVAILABLE): boolean {
    const most = spendable(this.balance, this.held, this.locked.creditLimit, guard);
    return most === null || amount <= most;
  }

  get changed(): boolean {
    return this.balance !== this.locked.balance || this.held !== this.locked.held;
  }

  get belowTopUpThreshold(): boolean {
    return this.locked.topUpThreshold !== null && this.balance < this.locked.topUpThreshold;
  }

  /**
   * Thresholds need a look when the balance rose (one may re-arm) or what is left to spend (the
   * balance and the credit line) fell below the highest armed one.
   */
  get lowBalanceInQuestion(): boolean {
    return this.credited || (this.locked.alertThreshold !== null && this.chargeable < this.locked.alertThreshold);
  }
}

/** Thrown by `LedgerPlan.post` for a debit that its guard refuses. */
export class GuardRefusal extends Error {
  constructor(readonly entry: LedgerEntry) {
    super(`the ${entry.guard ?? Guard.AVAILABLE} guard refuses a debit of ${-entry.amount} from wallet ${entry.walletId}`);
  }
}

/** A bigint column's range: a balance beyond it cannot be stored. */
const MAX_BIGINT = 2n ** 63n - 1n;
const MIN_BIGINT = -(2n ** 63n);

export class BalanceOutOfRange extends Error {}

/**
 * What one posting will write, worked out in memory against the wallets as locked: balances move
 * under the guard rule, rows get their ids (in posting order; they share a timestamp) and their
 * balance after. Pure: `src/ledger/ledger.ts` locks before and writes after.
 */
export class LedgerPlan {
  readonly accounts: Map<string, WalletAccount>;
  readonly rows: PlannedRow[] = [];
  private readonly nextTransactionId = idSequence('transaction');

  constructor(locked: Iterable<LockedWallet>) {
    this.accounts = new Map([...locked].map((wallet) => [wallet.id, new WalletAccount(wallet)]));
  }

  account(walletId: string): WalletAccount {
    const account = this.accounts.get(walletId);
    if (!account) throw new Error(`wallet ${walletId} was not locked for this posting`);
    return account;
  }

  /** Adds a row, or throws `GuardRefusal` / `BalanceOutOfRange` and changes nothing. */
  post(entry: LedgerEntry): PlannedRow {
    if (entry.amount === 0n) throw new Error('a ledger row moves money');
    const account = this.account(entry.walletId);
    if (entry.amount < 0n && !account.covers(-entry.amount, entry.guard)) throw new GuardRefusal(entry);
    const balanceAfter = account.balance + entry.amount;
    if (balanceAfter > MAX_BIGINT || balanceAfter < MIN_BIGINT) throw new BalanceOutOfRange();
    account.balance = balanceAfter;
    if (entry.amount > 0n) account.credited = true;
    // Field by field: a spread here cost the gateway ~3% of a batch's CPU (it deoptimizes).
    const row: PlannedRow = {
      walletId: entry.walletId,
      type: entry.type,
      amount: entry.amount,
      description: entry.description,
      actor: entry.actor,
      counterpartyWalletId: entry.counterpartyWalletId,
      idempotencyKey: entry.idempotencyKey,
      usage: entry.usage,
      metered: entry.metered,
      guard: entry.guard,
      id: this.nextTransactionId(),
      organizationId: account.locked.organizationId,
      balanceAfter,
    };
    account.rows.push(row);
    this.rows.push(row);
    return row;
  }

  /** Reserves (positive) or frees (negative) part of a wallet's balance for a hold. */
  hold(walletId: string, amount: bigint): void {
    this.account(walletId).held += amount;
  }

  /** Wallets a debit of this posting left below their auto top-up threshold. */
  belowTopUpThreshold(): string[] {
    return [...this.accounts.values()]
      .filter((account) => account.rows.some((row) => row.amount < 0n) && account.belowTopUpThreshold)
      .map((account) => account.locked.id);
  }
}
