import { ADMIN_TOKEN, capturedLogger, GATEWAY_TOKEN, startTestApp, type TestApp } from './support/app';
import { createFreshDatabase, type FreshDatabase } from './support/database';
import { ADJUST, balanceOf, unique } from './support/fixtures';
import { COST_OF_1000_INPUT, DEBIT, type GatewayFixture, gatewaySetup, requestKey, walletState } from './support/gateway';

/**
 * Idempotency answers are kept for a window (TOLLGATE_IDEMPOTENCY_RETENTION_HOURS) and then
 * purged; a retry after that is judged afresh. On a database of its own: the purge deletes by
 * this file's clock, which other files' servers do not share. The clock moves, nothing sleeps.
 */
const WINDOW_HOURS = 168;
const HOUR_MS = 3_600_000;
const BATCH = 3;

let database: FreshDatabase;
let app: TestApp;
const log = capturedLogger();
let now = new Date();
const later = (ms: number) => {
  now = new Date(now.getTime() + ms);
};

beforeAll(async () => {
  database = await createFreshDatabase('idempotency_retention');
  app = await startTestApp({
    databaseUrl: database.url,
    migrate: true,
    clock: () => now,
    logger: log.logger,
    // Only the purge on start runs by itself (with nothing to purge); the tests call the next ones.
    storage: { idempotencyRetentionHours: WINDOW_HOURS, checkMs: 3_600_000, batchSize: BATCH },
  });
}, 60_000);

// Answers are dated by the database's clock: each test starts the server's clock there.
beforeEach(() => {
  now = new Date();
});

afterAll(async () => {
  await app?.close();
  await database?.drop();
});

const purge = () => app.server.workers.storage!.purgeIdempotency();
const keysOf = async (organizationId: string) =>
  (await app.orm.em.fork().execute<Array<{ key: string }>>('select key from idempotency_keys where organization_id = ? order by key', [organizationId])).map(
    (row) => row.key,
  );

async function debitWith(fixture: GatewayFixture, idempotencyKey: string) {
  const { gatewayDebit } = await app.data(
    DEBIT,
    { input: { apiKey: fixture.secret, model: fixture.model, idempotencyKey, inputTokens: 1000, outputTokens: 0 } },
    GATEWAY_TOKEN,
  );
  expect(gatewayDebit.allowed).toBe(true);
  return gatewayDebit.transactionId as string;
}

describe('idempotency answers are kept for the retention window', () => {
  it("replays a gateway debit's answer within the window, even after a purge", async () => {
    const fixture = await gatewaySetup(app, '10');
    const key = requestKey();
    const first = await debitWith(fixture, key);

    later((WINDOW_HOURS - 1) * HOUR_MS);
    await purge();
    expect(await debitWith(fixture, key)).toBe(first);
    expect((await walletState(app, fixture.walletId)).deductions).toBe(1);
  });

  it('after the window and a purge, the same gateway key is judged afresh: a second charge (the documented behaviour)', async () => {
    const fixture = await gatewaySetup(app, '10');
    const key = requestKey();
    const first = await debitWith(fixture, key);

    later(WINDOW_HOURS * HOUR_MS + 60_000);
    expect(await purge()).toBeGreaterThan(0);
    expect(await keysOf(fixture.organizationId)).not.toContain(key);

    const second = await debitWith(fixture, key);
    expect(second).not.toBe(first);
    const state = await walletState(app, fixture.walletId);
    expect(state.deductions).toBe(2);
    expect(state.balance).toBe(10_000_000_000n - 2n * COST_OF_1000_INPUT);
    expect(state.sum).toBe(state.balance);
    // The new answer is kept again, and replayed.
    expect(await debitWith(fixture, key)).toBe(second);
  });

  it("treats a service write's key (walletAdjust) alike: replayed within the window, a new adjustment after it", async () => {
    const fixture = await gatewaySetup(app, null);
    const input = { walletId: fixture.walletId, amount: '5', description: 'retention', idempotencyKey: unique('adjust') };
    const adjust = async () => {
      const { walletAdjust } = await app.data(ADJUST, { input }, ADMIN_TOKEN);
      expect(walletAdjust.userErrors).toEqual([]);
      return walletAdjust.transaction.id as string;
    };
    const first = await adjust();
    later(WINDOW_HOURS * HOUR_MS - 60_000);
    await purge();
    expect(await adjust()).toBe(first);
    expect(await balanceOf(app, fixture.walletId)).toBe('5');

    later(2 * 60_000);
    await purge();
    expect(await adjust()).not.toBe(first);
    expect(await balanceOf(app, fixture.walletId)).toBe('10');
  });

  it('purges in bounded batches everything older than the window and nothing newer, and says so in its log and metrics', async () => {
    await purge();
    const fixture = await gatewaySetup(app, null);
    const purgedBefore = await purgedMetric();
    const cutoff = now.getTime() - WINDOW_HOURS * HOUR_MS;
    const ages = [
      ...Array.from({ length: 7 }, (_, i) => ({ key: `old-${i}`, at: cutoff - (i + 1) * 60_000 })),
      ...Array.from({ length: 2 }, (_, i) => ({ key: `new-${i}`, at: cutoff + (i + 1) * 60_000 })),
    ];
    for (const { key, at } of ages) {
      await app.orm.em
        .fork()
        .execute(`insert into idempotency_keys (organization_id, key, operation, request_hash, created_at) values (?, ?, 'test', 'hash', ?::timestamptz)`, [
          fixture.organizationId,
          key,
          new Date(at).toISOString(),
        ]);
    }

    expect(await purge()).toBe(7);
    expect(await keysOf(fixture.organizationId)).toEqual(['new-0', 'new-1']);
    // 7 rows at 3 a statement: 3 + 3 + 1, the last one short, so the purge stops there.
    expect(log.lines().filter((line) => line.msg === 'expired idempotency answers purged').at(-1)).toMatchObject({ purged: 7, batches: 3 });
    expect((await purgedMetric()) - purgedBefore).toBe(7);
    expect(await purge()).toBe(0);
  });
});

async function purgedMetric(): Promise<number> {
  const text = await (await fetch(`${app.server.url}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith('tollgate_idempotency_keys_purged_total '));
  return Number(line!.split(' ')[1]);
}
