import { Client } from 'pg';

export default async function globalTeardown(): Promise<void> {
  const name = process.env.TOLLGATE_TEST_DATABASE_NAME;
  if (!name) return;
  const admin = new Client({ connectionString: process.env.TOLLGATE_TEST_SERVER_URL });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}
