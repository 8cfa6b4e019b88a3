import { DeadlockException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';

const MAX_ATTEMPTS = 5;

/**
 * Runs `work` in a database transaction on a fresh fork of `em` (its own unit of work, so that a
 * retry starts from nothing the failed attempt loaded). Deadlocks and serialization
 * failures (both DeadlockException in MikroORM) are retried so that they never reach the
 * client; the work is safe to re-run because nothing it did survives the rollback.
 */
export async function inTransaction<T>(em: EntityManager, work: (tx: EntityManager) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await em.fork().transactional((tx) => work(tx));
    } catch (error) {
      if (!(error instanceof DeadlockException) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}
