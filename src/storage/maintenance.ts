import type { EntityManager } from '@mikro-orm/postgresql';
import type { Deps } from '../deps';
import { purgeExpiredAnswers } from '../idempotency';
import { runOn } from '../ledger/ledger';
import { Period, periodEnd, periodStart } from '../limits/periods';
import type { Worker } from '../worker';
import { LEDGER_MONTHS_AHEAD } from '../../migrations/Migration20261128080000_ledger_partitions';

const HOUR_MS = 3_600_000;
/** Rows one purge statement deletes at most: a short transaction, a bounded lock set. */
export const PURGE_BATCH = 5_000;
/** One purge at a time across replicas: the batch's transaction holds this advisory lock. */
const PURGE_LOCK = "hashtext('tollgate:idempotency-purge')";
/** One replica at a time makes the ledger's monthly partitions. */
const PARTITION_LOCK = "hashtext('tollgate:ledger-partitions')";

export interface StorageSettings {
  /** How long idempotency answers are kept (TOLLGATE_IDEMPOTENCY_RETENTION_HOURS). */
  idempotencyRetentionHours: number;
  /** How often the purge and the partition check run after the ones on start; 10 minutes by default. */
  checkMs?: number;
  /** Rows per purge statement; PURGE_BATCH by default. */
  batchSize?: number;
}

export type StorageServices = Pick<Deps, 'em' | 'now' | 'logger'> & {
  /** Told how many answers each purge deleted (the metrics). */
  onPurged?: (count: number) => void;
};

/**
 * Keeps storage bounded, on start and then every `checkMs`: purges the idempotency answers older
 * than the retention window (by the injected clock), in batches of `batchSize` rows, each its own
 * transaction, until a batch deletes fewer; and makes the ledger's monthly partitions for the
 * current month (by the same clock) and the next LEDGER_MONTHS_AHEAD, so that they exist before
 * their rows arrive. Replicas do not fight: work whose advisory lock another replica holds is
 * left to that one.
 */
export class StorageMaintenance implements Worker {
  readonly name = 'storage maintenance';
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();
  private stopping = false;

  constructor(
    private readonly services: StorageServices,
    private readonly settings: StorageSettings,
  ) {}

  async start(): Promise<void> {
    const { logger } = this.services;
    const round = () =>
      void this.inTurn(async () => {
        await this.makePartitions();
        await this.purge();
      }).catch((error) => logger.warn({ err: error }, 'storage maintenance failed'));
    round();
    this.timer = setInterval(round, this.settings.checkMs ?? 600_000);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** Runs `work` after what this worker has under way, so that its rounds and calls never overlap. */
  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const result = this.running.then(work);
    this.running = result.catch(() => undefined);
    return result;
  }

  /** Purges the answers older than the window; how many went (0 too when another replica holds the purge). */
  purgeIdempotency(): Promise<number> {
    return this.inTurn(() => this.purge());
  }

  private async purge(): Promise<number> {
    const { em, now, logger, onPurged } = this.services;
    const limit = this.settings.batchSize ?? PURGE_BATCH;
    const cutoff = new Date(now().getTime() - this.settings.idempotencyRetentionHours * HOUR_MS);
    let purged = 0;
    let batches = 0;
    for (;;) {
      const deleted = await em.fork().transactional(async (tx: EntityManager) => {
        const [{ locked }] = await tx.execute<Array<{ locked: boolean }>>(`select pg_try_advisory_xact_lock(${PURGE_LOCK}) as locked`);
        if (!locked) return null;
        const [row] = await runOn(tx)<{ purged: number }>(purgeExpiredAnswers(cutoff, limit));
        return row.purged;
      });
      if (deleted === null) break;
      purged += deleted;
      batches += 1;
      if (deleted > 0) onPurged?.(deleted);
      if (deleted < limit || this.stopping) break;
    }
    if (purged > 0) logger.info({ purged, batches, cutoff: cutoff.toISOString() }, 'expired idempotency answers purged');
    return purged;
  }

  /**
   * Makes the partitions of the current month and the next LEDGER_MONTHS_AHEAD that are missing
   * (none: no lock taken); the names made. A month whose rows already went to the default
   * partition is left out with a warning: its rows must be moved first (README, Operations).
   */
  ensureLedgerPartitions(): Promise<string[]> {
    return this.inTurn(() => this.makePartitions());
  }

  private async makePartitions(): Promise<string[]> {
    const { em, now, logger } = this.services;
    const made: string[] = [];
    for (let start = periodStart(Period.MONTHLY, now()), ahead = 0; ahead <= LEDGER_MONTHS_AHEAD; start = periodEnd(Period.MONTHLY, start), ahead += 1) {
      const month = start.toISOString().slice(0, 10);
      const name = `transactions_${month.slice(0, 7).replace('-', '_')}`;
      const [{ exists }] = await em.fork().execute<Array<{ exists: boolean }>>('select to_regclass(?) is not null as exists', [name]);
      if (exists) continue;
      try {
        const created = await em.fork().transactional(async (tx: EntityManager) => {
          const [{ locked }] = await tx.execute<Array<{ locked: boolean }>>(`select pg_try_advisory_xact_lock(${PARTITION_LOCK}) as locked`);
          if (!locked) return false;
          // Attaching waits for no debit, but for other DDL on the ledger: not for long.
          await tx.execute("set local lock_timeout = '5s'");
          const [row] = await tx.execute<Array<{ name: string | null }>>('select transactions_month_partition(?::date) as name', [month]);
          return row.name;
        });
        // Another replica is making them.
        if (created === false) return made;
        if (created) made.push(created);
      } catch (error) {
        logger.warn({ err: error, month }, 'ledger partition not made');
      }
    }
    if (made.length > 0) logger.info({ partitions: made }, 'ledger partitions made');
    return made;
  }
}
