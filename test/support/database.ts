import { Client } from 'pg';

/** `work` on a new, empty database of the run's server (its URL given), dropped afterwards. */
export async function onFreshDatabase(suffix: string, work: (url: string) => Promise<void>): Promise<void> {
  const url = new URL(process.env.TOLLGATE_TEST_DATABASE_URL!);
  const database = `${url.pathname.slice(1)}_${suffix}`;
  const admin = new Client({ connectionString: url.toString() });
  await admin.connect();
  await admin.query(`create database ${database}`);
  url.pathname = `/${database}`;
  try {
    await work(url.toString());
  } finally {
    await admin.query(`drop database ${database} with (force)`);
    await admin.end();
  }
}
