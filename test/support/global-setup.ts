import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** Creates this run's own database on the server of DATABASE_URL and migrates it. */
export default async function globalSetup(): Promise<void> {
  const serverUrl = new URL(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL);
  const name = `tollgate_test_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl.toString() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();

  const testUrl = new URL(serverUrl);
  testUrl.pathname = `/${name}`;
  // Migrated by the project's own script in a child process: MikroORM initialised here, in
  // Jest's parent realm, would leave metadata behind that breaks MikroORM in the test realm.
  execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, '../../scripts/migrate.ts')], {
    env: { ...process.env, DATABASE_URL: testUrl.toString() },
    stdio: 'inherit',
  });

  // Built once before the suites that run `npm start`: its build step is incremental, so theirs
  // then finds nothing to do and never rewrites dist/ under a server that is starting.
  execFileSync('npm', ['run', 'build'], { cwd: join(__dirname, '../..'), stdio: 'inherit' });

  process.env.TOLLGATE_TEST_DATABASE_URL = testUrl.toString();
  process.env.TOLLGATE_TEST_SERVER_URL = serverUrl.toString();
  process.env.TOLLGATE_TEST_DATABASE_NAME = name;
}
