import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { ormConfig } from '../../mikro-orm.config';
import type { Config } from '../config';

export interface Database {
  orm: MikroORM;
  /** True when running on the embedded PGlite database. */
  embedded: boolean;
  close(): Promise<void>;
}

/** Connects to PostgreSQL (or starts the embedded one) and brings the schema up to date. */
export async function openDatabase(config: Config): Promise<Database> {
  const database = config.DATABASE_URL
    ? await connect(config.DATABASE_URL, config.DB_POOL_SIZE)
    : await startEmbedded(resolve(config.TOLLGATE_DATA_DIR, 'pgdata'));
  try {
    await (database.embedded ? database.orm.getMigrator().up() : migrateExclusively(database.orm, config.DATABASE_URL!));
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}

/** Any fixed number: the key of the advisory lock that lets one replica migrate at a time. */
const MIGRATION_LOCK_KEY = 7_244_001;

/** Replicas that start together take turns: the first migrates, the others find nothing to do. */
async function migrateExclusively(orm: MikroORM, url: string): Promise<void> {
  const lock = new Client({ connectionString: url });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await orm.getMigrator().up();
  } finally {
    await lock.end();
  }
}

async function connect(url: string, poolSize: number): Promise<Database> {
  const orm = await MikroORM.init(ormConfig(url, poolSize));
  return { orm, embedded: false, close: () => orm.close(true) };
}

/**
 * PGlite served on a loopback port so that the ordinary driver and pool work unchanged. It has
 * one database session, which every connection to it shares, and runs one query at a time; so
 * the application (job queue included) uses exactly one connection, and each new connection
 * starts by clearing the session (see `ormConfig`). A second socket is accepted only so that a
 * replacement can connect while a broken connection is being torn down.
 */
async function startEmbedded(dataDir: string): Promise<Database> {
  mkdirSync(dataDir, { recursive: true });
  const pglite = await PGlite.create(dataDir);
  const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0, maxConnections: 2 });
  await server.start();
  const orm = await MikroORM.init(ormConfig(`postgres://postgres@${server.getServerConn()}/postgres`, 1, true));
  return {
    orm,
    embedded: true,
    async close() {
      await orm.close(true);
      await server.stop();
      await pglite.close();
    },
  };
}
