import type { EntityManager } from '@mikro-orm/postgresql';
import type { Knex } from '@mikro-orm/knex';
import PgBoss from 'pg-boss';
import type { ClientBase } from 'pg';
import type { Logger } from '../logger';

export type JobQueue = PgBoss;

/** The queue's own connections to the database, besides the application's pool. */
export const JOB_QUEUE_CONNECTIONS = 2;

/** Every queue tollgate uses; each is created on start. */
export const QUEUES = { autoTopUp: 'auto-top-up', alertWebhook: 'alert-webhook' } as const;

export interface JobQueueOptions {
  /** The database the jobs live in: the application's own. */
  url: string;
  /** How long a job may run before it counts as lost (its process died) and runs again elsewhere. */
  jobTimeoutSeconds: number;
  logger: Logger;
}

/**
 * pg-boss on the application's database, in its own schema: jobs survive restarts, and each is
 * taken by one worker across all instances. Transient failures (Stripe unreachable) are retried
 * with backoff; a job whose worker died is expired after its timeout and retried.
 */
export async function startJobQueue(options: JobQueueOptions): Promise<JobQueue> {
  const boss = new PgBoss({
    connectionString: options.url,
    max: JOB_QUEUE_CONNECTIONS,
    schedule: false,
    expireInSeconds: options.jobTimeoutSeconds,
    // Lost jobs are noticed by the maintenance run, so it runs at least as often as they time out.
    maintenanceIntervalSeconds: Math.max(1, Math.min(60, options.jobTimeoutSeconds)),
    retryLimit: 12,
    retryDelay: 2,
    retryBackoff: true,
  });
  boss.on('error', (error) => options.logger.error({ err: error }, 'job queue error'));
  await boss.start();
  for (const name of Object.values(QUEUES)) {
    if (!(await boss.getQueue(name))) await boss.createQueue(name);
  }
  return boss;
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
