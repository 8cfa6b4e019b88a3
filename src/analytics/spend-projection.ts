import type { EntityManager } from '@mikro-orm/postgresql';
import type { Wallet } from '../../entities';
import type { Deps } from '../deps';
import { sumUsage } from './usage-report';

const DAY_MS = 86_400_000n;
/** Further out than this, a projection says nothing useful (and leaves the range of a date). */
const HORIZON_MS = 100n * 366n * DAY_MS;

export interface SpendRate {
  days: number;
  /** Gateway spend in the window. */
  spend: bigint;
  /** Spend / days, rounded half up to the nano-USD. */
  averageDailySpend: bigint;
  /** When the available balance (the credit line counted) runs out at this rate; null when it does not (or beyond 100 years). */
  depletesAt: Date | null;
  /** Auto top-up adds at least as much per day as is spent. */
  coveredByAutoTopUp: boolean;
}

/** What auto top-up can add to the wallet per day, when it is on and can charge: its daily limit of top-ups. */
export function autoTopUpPerDay(wallet: Wallet, dailyLimit: number, paymentsConfigured: boolean): bigint {
  return wallet.autoTopUpEnabled && paymentsConfigured && wallet.autoTopUpAmount ? wallet.autoTopUpAmount * BigInt(dailyLimit) : 0n;
}

/**
 * The wallet's gateway spend over the last `days` days and where it leads: the available
 * balance (less active holds, plus the organization's credit line: the wallet runs out at minus
 * the limit) drained at the average rate, less what auto top-up can add per day (its amount times
 * the daily limit of top-ups; bonuses are not counted).
 */
async function spendRate(em: EntityManager, wallet: Wallet, creditLimit: bigint, days: number, now: Date, topUpPerDay: bigint): Promise<SpendRate> {
  const from = new Date(now.getTime() - days * Number(DAY_MS));
  const { total } = await sumUsage(em, wallet.organization.id, { from, to: now, workspaceId: wallet.workspace.id }, []);
  const spend = total.cost;
  const span = BigInt(days);
  const averageDailySpend = (2n * spend + span) / (2n * span);
  const drainInWindow = spend - topUpPerDay * span;
  const coveredByAutoTopUp = spend > 0n && drainInWindow <= 0n;
  if (spend === 0n || coveredByAutoTopUp) return { days, spend, averageDailySpend, depletesAt: null, coveredByAutoTopUp };
  const available = wallet.balance - wallet.held + creditLimit;
  if (available <= 0n) return { days, spend, averageDailySpend, depletesAt: now, coveredByAutoTopUp };
  const lastsMs = (available * span * DAY_MS) / drainInWindow;
  const depletesAt = lastsMs > HORIZON_MS ? null : new Date(now.getTime() + Number(lastsMs));
  return { days, spend, averageDailySpend, depletesAt, coveredByAutoTopUp };
}

/** The wallet's spend rates over the last 7 and 30 days. */
export async function spendProjection(
  { em, now, autoTopUp, stripe }: Pick<Deps, 'em' | 'now' | 'autoTopUp' | 'stripe'>,
  wallet: Wallet,
  creditLimit: bigint,
): Promise<{ last7Days: SpendRate; last30Days: SpendRate }> {
  const at = now();
  const topUpPerDay = autoTopUpPerDay(wallet, autoTopUp.dailyLimit, stripe !== null);
  const [last7Days, last30Days] = await Promise.all([7, 30].map((days) => spendRate(em, wallet, creditLimit, days, at, topUpPerDay)));
  return { last7Days, last30Days };
}
