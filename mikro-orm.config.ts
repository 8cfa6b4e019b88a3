import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

/** Runs on each new pool connection; knex's pool hook has this callback shape. */
type AfterCreate = (connection: { query(sql: string, done: (error?: Error) => void): void }, done: (error: Error | undefined, connection: unknown) => void) => void;

/**
 * The embedded database serves every connection from one session (STACK-NOTES.md), which
 * outlives any one connection: a new connection starts by clearing what an earlier one left
 * there (prepared statements, settings, advisory locks, LISTEN, temp tables), so that what
 * the driver and the gateway keep per connection is true of the session.
 */
const discardSessionState: AfterCreate = (connection, done) => connection.query('discard all', (error) => done(error, connection));

/**
 * The one MikroORM configuration; the server and the tests pass the URL and pool size.
 * `sharedSession`: every connection reaches the same database session (the embedded one).
 */
export function ormConfig(clientUrl: string, poolSize: number, sharedSession = false): Options {
  return defineConfig({
    clientUrl,
    entities: ENTITIES,
    discovery: { warnWhenNoEntities: true },
    // Entities are listed in code; a disk cache would only add a temp/ folder and cross-realm
    // copies of the metadata under Jest.
    metadataCache: { enabled: false },
    extensions: [Migrator],
    migrations: {
      tableName: 'mikro_orm_migrations',
      migrationsList: MIGRATIONS,
      transactional: true,
      allOrNothing: true,
      silent: true,
      snapshot: false,
    },
    pool: { min: 0, max: poolSize, ...(sharedSession && { afterCreate: discardSessionState }) },
    forceUtcTimezone: true,
    allowGlobalContext: false,
    debug: false,
  });
}

export default ormConfig(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/tollgate', 10);
