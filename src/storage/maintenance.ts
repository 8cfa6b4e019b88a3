import type { EntityManager } from '@mikro-orm/postgresql';
import type { Deps } from '../deps';
import { purgeExpiredAnswers } from '../idempotency';
import { runOn } from '../ledger/ledger';
import type { Worker } from '../worker';

const HOUR_MS = 3_600_000;
/** Rows one purge statement deletes at most: a short transaction, a bounded lock set. */
export const PURGE_BATCH = 5_000;
/** One purge at a time across replicas: the batch's transaction holds this advisory lock. */
const PURGE_LOCK = "hashtext('tollgate:idempotency-purge')";

export interface StorageSettings {
  /** How long idempotency answers are kept (TOLLGATE_IDEMPOTENCY_RETENTION_HOURS). */
  idempotencyRetentionHours: number;
  /** How often the purge runs after the one on start; 10 minutes by default. */
  checkMs?: number;
  /** Rows per purge statement; PURGE_BATCH by default. */
  batchSize?: number;
}

export type StorageServices = Pick<Deps, 'em' | 'now' | 'logger'> & {
  /** Told how many answers each purge deleted (the metrics). */
  onPurged?: (count: number) => void;
};

/**
 * Keeps the database from growing for ever: purges the idempotency answers older than the
 * retention window (by the injected clock), in batches of `batchSize` rows, each its own
 * transaction, until a batch deletes fewer; on start and then every `checkMs`. Replicas do not
 * fight: a batch that cannot take the advisory lock means another replica is purging, and this
 * one leaves the round to it.
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
    const round = () => {
      this.running = this.running.then(() => this.purgeIdempotency()).catch((error) => logger.warn({ err: error }, 'storage maintenance failed'));
    };
    round();
    this.timer = setInterval(round, this.settings.checkMs ?? 600_000);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** Purges the answers older than the window; how many went (0 too when another replica holds the purge). */
  async purgeIdempotency(): Promise<number> {
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
}
