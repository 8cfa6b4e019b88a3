import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MikroORM } from '@mikro-orm/postgresql';
import { ormConfig } from '../mikro-orm.config';
import { loadConfig } from '../src/config';
import { type Database, openDatabase } from '../src/db/database';
import { Statement } from '../src/db/sql';
import { batchDatabase } from '../src/gateway/session';

/**
 * The embedded database has one session, shared by every connection and outliving each of
 * them: what one connection leaves there must not trip the next one.
 */
describe('the embedded database session', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-session-'));
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase(loadConfig({ TOLLGATE_DATA_DIR: dataDir }));
  });
  afterAll(async () => {
    await database.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const GATEWAY_STATEMENT = 'select ?::bigint + 1 as next';
  const gatewayStatement = (orm: MikroORM, value: bigint) =>
    batchDatabase(orm.em.getConnection().getKnex()).transaction((tx) => tx.commitWith<{ next: string }>(new Statement(GATEWAY_STATEMENT, [value])));
  const setting = async (orm: MikroORM) => (await orm.em.fork().execute("select current_setting('statement_timeout') as value"))[0].value;

  it('runs one connection, so that concurrent gateway transactions and ORM reads never meet in the session', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        i % 2 === 0 ? gatewayStatement(database.orm, BigInt(i)).then(([row]) => row.next) : setting(database.orm),
      ),
    );
    expect(results).toEqual(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? String(i + 1) : '0')));
  });

  it('starts each new connection on a clean session: statements prepared and settings made by an earlier one are gone', async () => {
    expect(database.embedded).toBe(true);
    expect(await gatewayStatement(database.orm, 1n)).toEqual([{ next: '2' }]);
    await database.orm.em.fork().execute("set statement_timeout = '42s'");
    expect(await setting(database.orm)).toBe('42s');

    // The connection goes; a new one reaches the same session, as a reconnect does.
    await database.orm.close(true);
    const again = await MikroORM.init(ormConfig(database.orm.config.get('clientUrl')!, 1, true));
    try {
      expect(await setting(again)).toBe('0');
      expect(await gatewayStatement(again, 41n)).toEqual([{ next: '42' }]);
    } finally {
      await again.close(true);
    }
  });
});
