import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Knex } from '@mikro-orm/knex';
import PgBoss from 'pg-boss';
import type { ClientBase } from 'pg';
import { withConnection } from '../db/pool';
import type { Logger } from '../logger';
import type { Worker } from '../worker';

export type JobQueue = PgBoss;

/** Every queue tollgate uses; each is created on start. */
export const QUEUES = { autoTopUp: 'auto-top-up', alertWebhook: 'alert-webhook', enterpriseInvoice: 'enterprise-invoice' } as const;

/** A job id (a UUID) derived from what the job is for: queued twice, it is queued once while the first is kept. */
export function jobIdFor(key: string): string {
  const hex = createHash('sha256').update(key).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** pg-boss's schema. */
const SCHEMA = 'pgboss';
const INSTALL_LOCK = 'tollgate.pgboss.install';

export interface JobQueueOptions {
  /** The application's database; the queue uses its pool. */
  em: EntityManager;
  /** How long a job may run before it counts as lost (its process died) and runs again elsewhere. */
  jobTimeoutSeconds: number;
  logger: Logger;
}

/**
 * pg-boss on the application's database, in its own schema: jobs survive restarts, and each is
 * taken by one worker across all instances. It runs on the application's pool rather than a
 * pool of its own, so that the embedded database, which has one session for all connections,
 * sees one client. Transient failures (Stripe unreachable) are retried with backoff; a job
 * whose worker died is expired after its timeout and retried.
 */
export class JobQueueWorker implements Worker {
  readonly name = 'jobs';
  /** Jobs may be sent and worked on once it has started. */
  readonly queue: JobQueue;
  private readonly knex: Knex;

  constructor(options: JobQueueOptions) {
    const knex = options.em.getConnection().getKnex();
    this.knex = knex;
    this.queue = new PgBoss({
      db: { executeSql: (text, values) => withConnection(knex, (client) => queryOrRollBack(client, text, values)) },
      schema: SCHEMA,
      schedule: false,
      expireInSeconds: options.jobTimeoutSeconds,
      // Lost jobs are noticed by the maintenance run, so it runs at least as often as they time out.
      maintenanceIntervalSeconds: Math.max(1, Math.min(60, options.jobTimeoutSeconds)),
      retryLimit: 12,
      retryDelay: 2,
      retryBackoff: true,
    });
    this.queue.on('error', (error) => options.logger.error({ err: error }, 'job queue error'));
  }

  async start(): Promise<void> {
    await this.install();
    await this.queue.start();
    for (const name of Object.values(QUEUES)) await createQueue(this.queue, name);
  }

  /**
   * Makes pg-boss's schema once for all replicas. Started together on a new database, each would
   * make it, and `CREATE SCHEMA IF NOT EXISTS` run at the same moment fails one of them with a
   * duplicate key (pg-boss only tolerates "already exists"); here one makes it under a lock held
   * across replicas, and the others find it made.
   */
  private async install(): Promise<void> {
    await withConnection(this.knex, async (client) => {
      await client.query('select pg_advisory_lock(hashtext($1))', [INSTALL_LOCK]);
      try {
        const { rows } = await client.query<{ installed: boolean }>(`select to_regclass('${SCHEMA}.version') is not null as installed`);
        if (!rows[0].installed) await queryOrRollBack(client, PgBoss.getConstructionPlans(SCHEMA));
      } finally {
        await client.query('select pg_advisory_unlock(hashtext($1))', [INSTALL_LOCK]);
      }
    });
  }

  /** Jobs being worked on are given up to 10 s to finish. */
  async stop(): Promise<void> {
    await this.queue.stop({ graceful: true, timeout: 10_000 });
  }
}

/**
 * pg-boss sends some transactions as one text (`BEGIN; …; COMMIT`): when a statement in it fails,
 * the connection is left inside the aborted transaction, and must not go back to the pool so.
 */
async function queryOrRollBack(client: ClientBase, text: string, values?: unknown[]) {
  try {
    return await client.query(text, values);
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}

const DEADLOCK = '40P01';
const CREATE_QUEUE_ATTEMPTS = 5;

/**
 * Creates a queue unless it exists. Replicas that start together on a new database create the
 * same queues at once, and pg-boss's DDL for them can deadlock: the loser looks again.
 */
async function createQueue(boss: PgBoss, name: string): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      if (!(await boss.getQueue(name))) await boss.createQueue(name);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== DEADLOCK || attempt >= CREATE_QUEUE_ATTEMPTS) throw error;
    }
  }
}

/**
 * The connection of a MikroORM transaction for pg-boss, so that a job is sent in the same
 * transaction as the rows it works on: both commit, or neither.
 */
export function inTransactionOf(tx: EntityManager): { db: PgBoss.Db } {
  return {
    db: {
      async executeSql(text, values) {
        const knex = tx.getTransactionContext<Knex.Transaction>();
        if (!knex) throw new Error('inTransactionOf needs an open transaction');
        const client = (await knex.client.acquireConnection()) as ClientBase;
        return client.query(text, values);
      },
    },
  };
}
