import 'reflect-metadata';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/database';

/** Applies pending migrations to DATABASE_URL (or the embedded database) and exits. */
async function migrate(): Promise<void> {
  const database = await openDatabase(loadConfig());
  await database.close();
}

migrate().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
