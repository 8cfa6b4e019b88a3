import { MikroORM } from '@mikro-orm/postgresql';
import { ormConfig } from '../mikro-orm.config';
import { LEDGER_MONTHS_AHEAD } from '../migrations/Migration20261128080000_ledger_partitions';
import { capturedLogger, startTestApp, type TestApp } from './support/app';
import { createFreshDatabase, type FreshDatabase } from './support/database';
import { balanceOf, unique } from './support/fixtures';
import { debit, type GatewayFixture, gatewaySetup, walletState } from './support/gateway';

/**
 * The ledger partitioned by UTC calendar month. On a database of its own, migrated in two steps
 * so that rows written before the partitioning are there to be carried over; the server's clock
 * dates gateway rows, so a debit lands in the month the clock says.
 */
let database: FreshDatabase;
let app: TestApp;
const log = capturedLogger();
let now = new Date();
const realNow = new Date();

const monthOf = (at: Date, ahead = 0) => {
  const month = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + ahead, 1));
  return `transactions_${month.toISOString().slice(0, 7).replace('-', '_')}`;
};
const partitionOf = async (transactionId: string) => {
  const [row] = await app.orm.em.fork().execute<Array<{ partition: string }>>('select tableoid::regclass::text as partition from transactions where id = ?', [transactionId]);
  return row?.partition;
};
const partitions = async () =>
  (
    await app.orm.em
      .fork()
      .execute<Array<{ name: string }>>(`select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'transactions'::regclass order by 1`)
  ).map((row) => row.name);

let before: { fixture: GatewayFixture; ids: string[]; partitions: string[] };

beforeAll(async () => {
  database = await createFreshDatabase('ledger_partitions');
  const orm = await MikroORM.init(ormConfig(database.url, 2));
  await orm.getMigrator().up({ to: 'Migration20261128070000_idempotency_retention' });
  await orm.close(true);

  // Rows of the plain ledger: last year, this month, and years ahead.
  const plain = await startTestApp({ databaseUrl: database.url, clock: () => now });
  const fixture = await gatewaySetup(plain, '100');
  const ids: string[] = [];
  for (const at of [new Date(Date.UTC(realNow.getUTCFullYear() - 1, 5, 15)), realNow, new Date(Date.UTC(realNow.getUTCFullYear() + 5, 0, 10))]) {
    now = at;
    ids.push((await debit(plain, fixture)).transactionId);
  }
  await plain.close();
  now = realNow;

  app = await startTestApp({
    databaseUrl: database.url,
    migrate: true,
    clock: () => now,
    logger: log.logger,
    storage: { idempotencyRetentionHours: 168, checkMs: 3_600_000 },
  });
  before = { fixture, ids, partitions: await partitions() };
}, 90_000);

afterAll(async () => {
  await app?.close();
  await database?.drop();
});

describe('the ledger, one partition per UTC month', () => {
  it('carries every row over: each in its month, the year ahead in the default partition, every balance its ledger sum', async () => {
    const { fixture, ids } = before;
    expect(await Promise.all(ids.map(partitionOf))).toEqual([
      `transactions_${realNow.getUTCFullYear() - 1}_06`,
      monthOf(realNow),
      'transactions_default',
    ]);
    // From the oldest row's month to LEDGER_MONTHS_AHEAD past this one, and the default.
    expect(before.partitions).toContain(monthOf(realNow, LEDGER_MONTHS_AHEAD));
    expect(before.partitions).not.toContain(monthOf(realNow, LEDGER_MONTHS_AHEAD + 1));
    expect(before.partitions).toHaveLength(12 + realNow.getUTCMonth() - 5 + LEDGER_MONTHS_AHEAD + 1 + 1);
    const state = await walletState(app, fixture.walletId);
    expect(state).toMatchObject({ deductions: 3 });
    expect(state.sum).toBe(state.balance);
  });

  it('puts new rows in their month, and a row dated past the partitions made in the default one', async () => {
    const fixture = await gatewaySetup(app, '10');
    now = realNow;
    const thisMonth = (await debit(app, fixture)).transactionId;
    now = new Date(Date.UTC(realNow.getUTCFullYear(), realNow.getUTCMonth() + 2, 3));
    const inTwoMonths = (await debit(app, fixture)).transactionId;
    now = new Date(Date.UTC(realNow.getUTCFullYear() + 6, 2, 1));
    const farAhead = (await debit(app, fixture)).transactionId;

    expect(await partitionOf(thisMonth)).toBe(monthOf(realNow));
    expect(await partitionOf(inTwoMonths)).toBe(monthOf(realNow, 2));
    expect(await partitionOf(farAhead)).toBe('transactions_default');
    const state = await walletState(app, fixture.walletId);
    expect(state.sum).toBe(state.balance);
    expect(await balanceOf(app, fixture.walletId)).toBe('9.9967');
  });

  it('still refuses UPDATE and DELETE, on the ledger and on a partition itself', async () => {
    const em = app.orm.em.fork();
    const [id] = before.ids;
    await expect(em.execute('update transactions set amount = 1 where id = ?', [id])).rejects.toThrow(/append-only/);
    await expect(em.execute('delete from transactions where id = ?', [id])).rejects.toThrow(/append-only/);
    await expect(em.execute(`update ${monthOf(realNow)} set amount = 1`)).rejects.toThrow(/append-only/);
    await expect(em.execute('delete from transactions_default')).rejects.toThrow(/append-only/);
  });

  it('checks the references of rows spread over several partitions in one statement', async () => {
    const { fixture } = before;
    const insert = (walletId: string) =>
      app.orm.em.fork().execute(
        `insert into transactions (id, wallet_id, organization_id, type, amount, balance_after, description, actor, created_at)
         values (?, ?, ?, 'MANUAL', 1, 1, 'test', 'test', ?::timestamptz), (?, ?, ?, 'MANUAL', 1, 1, 'test', 'test', ?::timestamptz)`,
        [unique('txn_'), fixture.walletId, fixture.organizationId, realNow.toISOString(), unique('txn_'), walletId, fixture.organizationId, '2099-01-01T00:00:00Z'],
      );
    await expect(insert('wal_missing')).rejects.toMatchObject({ code: '23503', message: expect.stringMatching(/"wallet_id"/) });
    expect((await walletState(app, fixture.walletId)).deductions).toBe(3);
  });

  it('finds a row by id alone through an index', async () => {
    const plan = await app.orm.em.fork().transactional(async (tx) => {
      await tx.execute('set local enable_seqscan = off');
      return tx.execute<Array<{ 'QUERY PLAN': string }>>('explain select * from transactions where id = ?', [before.ids[0]]);
    });
    const text = plan.map((row) => row['QUERY PLAN']).join('\n');
    expect(text).toMatch(/Index (Only )?Scan using transactions_\w+_pkey/);
    expect(text).not.toMatch(/Seq Scan/);
  });

  it('keeps months ahead of the clock with the storage worker, once, and leaves out a month whose rows went to the default', async () => {
    // The default holds a row of (this year + 6)-03 (above): months up to it are made but that one.
    now = new Date(Date.UTC(realNow.getUTCFullYear() + 6, 0, 20));
    const made = await app.server.workers.storage!.ensureLedgerPartitions();
    const year = realNow.getUTCFullYear() + 6;
    expect(made).toEqual([`transactions_${year}_01`, `transactions_${year}_02`, `transactions_${year}_04`]);
    expect(log.lines().find((line) => line.msg === 'ledger partition not made')).toMatchObject({ month: `${year}-03-01`, err: { message: expect.stringMatching(/default partition/) } });
    expect(await app.server.workers.storage!.ensureLedgerPartitions()).toEqual([]);

    // A row of a month made by the worker lands there, with every index and trigger of the ledger.
    const fixture = await gatewaySetup(app, '10');
    now = new Date(Date.UTC(year, 1, 14));
    const id = (await debit(app, fixture)).transactionId;
    expect(await partitionOf(id)).toBe(`transactions_${year}_02`);
    await expect(app.orm.em.fork().execute(`delete from transactions_${year}_02`)).rejects.toThrow(/append-only/);
    const [{ indexes }] = await app.orm.em
      .fork()
      .execute<Array<{ indexes: number }>>(`select count(*)::int as indexes from pg_indexes where tablename = ?`, [`transactions_${year}_02`]);
    expect(indexes).toBe(2);
  });
});
