import type { EntityManager } from '@mikro-orm/postgresql';
import { LowBalanceThreshold } from '../../entities';
import { inTransaction } from '../db/transaction';
import { DomainError, UserErrorCode } from '../errors';
import { textArray } from '../db/recordset';
import { raw, sql, type Statement } from '../db/sql';
import { newId } from '../ids';
import type { MemberActor } from '../actor';
import type { Deps } from '../deps';
import { type EventBus, type LowBalanceAlertEvent, TOPICS } from '../realtime/pubsub';

/** Enough for a warning and an urgent level with room to spare; more is a misconfiguration. */
export const MAX_THRESHOLDS_PER_WALLET = 10;

/**
 * Common table expressions that bring the low-balance thresholds of some wallets up to date
 * with their balances; `balances` is a from-item with the columns (wallet_id, balance), the
 * balance being what is left to spend (with the organization's credit line, if any). An
 * armed threshold above the balance fires (disarms and stores an alert, returned by the CTE
 * `low_balance_alerts`); a disarmed one at or below the balance is armed again.
 *
 * The statement must run under the wallets' row locks, in the transaction that moved their
 * balances: every change of a balance or of a threshold takes that lock, so crossings are
 * judged one at a time, in commit order, and each fires exactly once.
 */
export function lowBalanceCtes(balances: Statement): Statement {
  return sql`low_balance_wallets as (
         select wallet_id, balance from ${balances}),
       low_balance_rearmed as (
         update low_balance_thresholds t set armed = true
           from low_balance_wallets b
          where t.wallet_id = b.wallet_id and not t.armed and b.balance >= t.amount),
       low_balance_fired as (
         update low_balance_thresholds t set armed = false
           from low_balance_wallets b
          where t.wallet_id = b.wallet_id and t.armed and b.balance < t.amount
          returning t.id, t.organization_id, t.wallet_id, t.amount, t.recipient_member_ids, b.balance),
       low_balance_alerts as (
         insert into alerts (id, organization_id, wallet_id, kind, message, low_balance_threshold_id, threshold, balance, recipient_member_ids)
         select tollgate_new_id('alr'), organization_id, wallet_id, 'LOW_BALANCE',
                'Low balance: ' || tollgate_usd(balance) || ' is below the threshold of ' || tollgate_usd(amount),
                id, amount, balance, recipient_member_ids
           from low_balance_fired
          order by wallet_id, amount desc
         returning id, organization_id, wallet_id, recipient_member_ids)`;
}

/** The alerts `lowBalanceCtes` stored, as one jsonb array of `LowBalanceAlertEvent`s. */
export const LOW_BALANCE_ALERTS_JSON = `(select coalesce(jsonb_agg(jsonb_build_object('alertId', id, 'organizationId', organization_id,
           'walletId', wallet_id, 'recipientMemberIds', recipient_member_ids)), '[]'::jsonb) from low_balance_alerts)`;

/** Brings the thresholds of wallets up to date with their balances (after a threshold changed); the alerts it fired. */
export async function settleLowBalance(tx: EntityManager, walletIds: string[]): Promise<LowBalanceAlertEvent[]> {
  const statement = sql`with ${lowBalanceCtes(
    sql`(select w.id as wallet_id, w.balance + o.credit_limit as balance
           from wallets w join organizations o on o.id = w.organization_id
          where w.id in (select unnest(${textArray(walletIds)}::text[]))) as w`,
  )}
     select ${raw(LOW_BALANCE_ALERTS_JSON)} as alerts`;
  const [row] = await tx.execute<Array<{ alerts: LowBalanceAlertEvent[] }>>(statement.text, [...statement.params]);
  return row.alerts;
}

/** Call after the commit that stored them. */
export function publishLowBalanceAlerts(bus: EventBus, alerts: LowBalanceAlertEvent[]): void {
  for (const alert of alerts) bus.publish(TOPICS.lowBalanceAlert, alert.organizationId, alert);
}

export interface LowBalanceThresholdInput {
  walletId: string;
  amount: bigint;
  /** Left out: the member who sets it. */
  recipientMemberIds?: string[] | null;
}

/**
 * Sets a wallet's threshold at `amount` (creating it, or changing the recipients of the one at
 * that amount). A new threshold is armed; when the balance is already below it, it fires at once.
 */
export async function setLowBalanceThreshold(
  { em, bus }: Pick<Deps, 'em' | 'bus'>,
  actor: MemberActor,
  input: LowBalanceThresholdInput,
): Promise<LowBalanceThreshold> {
  const { organizationId } = actor;
  if (input.amount <= 0n) throw new DomainError(UserErrorCode.INVALID, 'The threshold must be above zero', ['input', 'amount']);
  const recipients = [...new Set(input.recipientMemberIds ?? [actor.memberId])];
  if (recipients.length === 0) throw new DomainError(UserErrorCode.INVALID, 'A threshold needs at least one recipient', ['input', 'recipientMemberIds']);
  const { thresholdId, alerts } = await inTransaction(em, async (tx) => {
    const members = await tx.execute<Array<{ id: string }>>('select id from members where id in (?) and organization_id = ? and removed_at is null', [
      recipients,
      organizationId,
    ]);
    if (members.length !== recipients.length) {
      throw new DomainError(UserErrorCode.NOT_FOUND, 'Every recipient must be a member of the organization', ['input', 'recipientMemberIds']);
    }
    // The wallet's lock orders this change with the debits and credits that judge its thresholds.
    const [wallet] = await tx.execute('select id from wallets where id = ? and organization_id = ? for no key update', [input.walletId, organizationId]);
    if (!wallet) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such wallet', ['input', 'walletId']);
    const [{ others }] = await tx.execute<Array<{ others: number }>>(
      'select count(*)::int as others from low_balance_thresholds where wallet_id = ? and amount <> ?',
      [input.walletId, input.amount.toString()],
    );
    if (others >= MAX_THRESHOLDS_PER_WALLET) {
      throw new DomainError(UserErrorCode.INVALID, `A wallet has at most ${MAX_THRESHOLDS_PER_WALLET} low-balance thresholds`, ['input', 'amount']);
    }
    const [{ id }] = await tx.execute<Array<{ id: string }>>(
      `insert into low_balance_thresholds (id, organization_id, wallet_id, amount, recipient_member_ids) values (?, ?, ?, ?, ?)
       on conflict (wallet_id, amount) do update set recipient_member_ids = excluded.recipient_member_ids
       returning id`,
      [newId('lowBalanceThreshold'), organizationId, input.walletId, input.amount.toString(), textArray(recipients)],
    );
    return { thresholdId: id, alerts: await settleLowBalance(tx, [input.walletId]) };
  });
  publishLowBalanceAlerts(bus, alerts);
  return em.findOneOrFail(LowBalanceThreshold, thresholdId);
}

/** Removes a threshold; its past alerts stay, with what they were about. */
export async function removeLowBalanceThreshold(
  { em }: Pick<Deps, 'em'>,
  actor: MemberActor,
  { lowBalanceThresholdId }: { lowBalanceThresholdId: string },
): Promise<string> {
  const removed = await em.nativeDelete(LowBalanceThreshold, { id: lowBalanceThresholdId, organization: actor.organizationId });
  if (removed === 0) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such low-balance threshold', ['input', 'lowBalanceThresholdId']);
  return lowBalanceThresholdId;
}
