import type { EntityManager } from '@mikro-orm/postgresql';
import { MIGRATIONS } from '../../migrations';

/** How long the database may take to answer before the process counts as not ready. */
const CHECK_TIMEOUT_MS = 2000;

export type Readiness = { ready: true } | { ready: false; reason: string };

/** Ready to serve: the database answers, and every migration this build knows has run on it. */
export async function readiness(em: EntityManager): Promise<Readiness> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Readiness>((resolve) => {
    timer = setTimeout(() => resolve({ ready: false, reason: `the database did not answer within ${CHECK_TIMEOUT_MS} ms` }), CHECK_TIMEOUT_MS);
  });
  const check = (async (): Promise<Readiness> => {
    let done: Set<string>;
    try {
      const [{ migrated }] = await em.fork().execute<Array<{ migrated: boolean }>>("select to_regclass('mikro_orm_migrations') is not null as migrated");
      const rows = migrated ? await em.fork().execute<Array<{ name: string }>>('select name from mikro_orm_migrations') : [];
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
