import type { EntityManager } from '@mikro-orm/postgresql';
import type { Knex } from '@mikro-orm/knex';
import PgBoss from 'pg-boss';
import type { ClientBase } from 'pg';
import { withConnection } from '../db/pool';
import type { Logger } from '../logger';

export type JobQueue = PgBoss;

/** Every queue tollgate uses; each is created on start. */
export const QUEUES = { autoTopUp: 'auto-top-up', alertWebhook: 'alert-webhook' } as const;

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
export async function startJobQueue(options: JobQueueOptions): Promise<JobQueue> {
  const knex = options.em.getConnection().getKnex();
  const boss = new PgBoss({
    db: { executeSql: (text, values) => withConnection(knex, (client) => client.query(text, values)) },
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
