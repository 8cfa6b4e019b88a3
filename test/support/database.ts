import { Client } from 'pg';

export interface FreshDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A new, empty database on the run's server, named after the run's database and `suffix`. */
export async function createFreshDatabase(suffix: string): Promise<FreshDatabase> {
  const url = new URL(process.env.TOLLGATE_TEST_DATABASE_URL!);
  const database = `${url.pathname.slice(1)}_${suffix}`;
  const admin = new Client({ connectionString: url.toString() });
  await admin.connect();
  await admin.query(`create database ${database}`);
  url.pathname = `/${database}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.query(`drop database ${database} with (force)`);
      await admin.end();
    },
  };
}

/** `work` on a new, empty database of the run's server (its URL given), dropped afterwards. */
export async function onFreshDatabase(suffix: string, work: (url: string) => Promise<void>): Promise<void> {
  const database = await createFreshDatabase(suffix);
  try {
    await work(database.url);
  } finally {
    await database.drop();
  }
}
