import type { EntityManager } from '@mikro-orm/postgresql';
import { MIGRATIONS } from '../../migrations';
import type { EventBus, RedisState } from '../realtime/pubsub';

/** How long the database may take to answer before the process counts as not ready. */
const CHECK_TIMEOUT_MS = 2000;

type DatabaseReadiness = { ready: true } | { ready: false; reason: string };

export interface Readiness {
  ready: boolean;
  status: 'ready' | 'unavailable';
  reason?: string;
  /** With REDIS_URL. */
  redis?: RedisState;
}

/**
 * Ready to serve: the database answers, and every migration this build knows has run on it.
 * Redis is reported, not required: without it a replica still answers every query and debit
 * exactly, only live events pause; and as all replicas share one Redis, taking them all out of
 * the load balancer would turn that into a full outage.
 */
export async function readiness(em: EntityManager, bus: EventBus): Promise<Readiness> {
  const database = await databaseReadiness(em);
  const redis = bus.redisState();
  return {
    ready: database.ready,
    status: database.ready ? 'ready' : 'unavailable',
    ...(!database.ready && { reason: database.reason }),
    ...(redis && { redis }),
  };
}

async function databaseReadiness(em: EntityManager): Promise<DatabaseReadiness> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<DatabaseReadiness>((resolve) => {
    timer = setTimeout(() => resolve({ ready: false, reason: `the database did not answer within ${CHECK_TIMEOUT_MS} ms` }), CHECK_TIMEOUT_MS);
  });
  const check = (async (): Promise<DatabaseReadiness> => {
    let done: Set<string>;
    try {
      const [{ migrated }] = await em.execute<Array<{ migrated: boolean }>>("select to_regclass('mikro_orm_migrations') is not null as migrated");
      const rows = migrated ? await em.execute<Array<{ name: string }>>('select name from mikro_orm_migrations') : [];
      done = new Set(rows.map((row) => row.name.replace(/\.[jt]s$/, '')));
    } catch {
      return { ready: false, reason: 'the database is unreachable' };
    }
    const pending = MIGRATIONS.filter((migration) => !done.has(migration.name)).map((migration) => migration.name);
    return pending.length === 0 ? { ready: true } : { ready: false, reason: `migrations not applied: ${pending.join(', ')}` };
  })();
  try {
    return await Promise.race([check, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
