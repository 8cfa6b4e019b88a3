import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import type { createClient } from 'graphql-ws';
import Redis from 'ioredis';
import pino from 'pino';
import { createLogger } from '../src/logger';
import { createRedisEventBus, TOPICS } from '../src/realtime/pubsub';
import { ADMIN_TOKEN, GATEWAY_TOKEN, graphqlClient, startTestApp, subscriptionClient, type TestApp, useTestApp } from './support/app';
import { subscriptionsListening, untilListening } from './support/metrics';
import { createMemberWithToken, createOrganization, createWorkspace, eventually, fund, MEMBER_TOKEN_REVOKE } from './support/fixtures';
import { DEBIT_BATCH, debit, debitAtOnce, gatewaySetup, requestKey } from './support/gateway';
import { freePort, type ServerProcess, spawnServer } from './support/process';

const app = useTestApp();
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const wsClient = (token: string, server: TestApp | string = app) => subscriptionClient(server, token);

const BALANCE = `subscription ($walletId: ID!) {
  walletBalanceChanged(walletId: $walletId) { walletId balance availableBalance change transactionId transaction { type amount } }
}`;
const RECORDED = 'subscription ($walletId: ID!, $types: [TransactionType!]) { transactionRecorded(walletId: $walletId, types: $types) { id type amount } }';

type BalanceEvent = { walletId: string; balance: string; availableBalance: string; change: string; transactionId: string | null; transaction: { type: string; amount: string } | null };

/** Subscribes, and resolves once the first event (the current balance) has arrived: from then on nothing is missed. */
async function watchBalance(client: ReturnType<typeof createClient>, walletId: string) {
  const events = client.iterate<{ walletBalanceChanged: BalanceEvent }>({ query: BALANCE, variables: { walletId } });
  const first = await events.next();
  const next = async () => {
    const { value } = await events.next();
    if (!value.data) throw new Error(JSON.stringify(value.errors));
    return value.data.walletBalanceChanged;
  };
  return { first: first.value.data?.walletBalanceChanged as BalanceEvent, next, events };
}

describe('walletBalanceChanged over graphql-ws', () => {
  it('starts with the current balance, then delivers each committed change with its transaction', async () => {
    const org = await createOrganization(app);
    const { walletId } = await createWorkspace(app, org.ownerToken);
    await fund(app, walletId, '2');
    const client = wsClient(org.ownerToken);
    try {
      const watch = await watchBalance(client, walletId);
      expect(watch.first).toEqual({ walletId, balance: '2', availableBalance: '2', change: '0', transactionId: null, transaction: null });
      await fund(app, walletId, '7.5');
      expect(await watch.next()).toMatchObject({ walletId, balance: '9.5', availableBalance: '9.5', change: '7.5', transaction: { type: 'MANUAL', amount: '7.5' } });
      await watch.events.return?.();
    } finally {
      await client.dispose();
    }
  });

  it('shows what gateway holds reserve as the difference between balance and available balance', async () => {
    const fixture = await gatewaySetup(app, '1');
    const client = wsClient(fixture.ownerToken);
    try {
      const watch = await watchBalance(client, fixture.walletId);
      const { gatewayAuthorize } = await app.data(
        `mutation ($input: GatewayAuthorizeInput!) { gatewayAuthorize(input: $input) { allowed hold { id } } }`,
        { input: { apiKey: fixture.secret, model: fixture.model, idempotencyKey: requestKey(), maxInputTokens: 100_000 } },
        GATEWAY_TOKEN,
      );
      expect(gatewayAuthorize.allowed).toBe(true);
      // The hold moves no balance; the next debit's event shows it reserved.
      expect((await debit(app, fixture)).allowed).toBe(true);
      expect(await watch.next()).toMatchObject({ balance: '0.9989', availableBalance: '0.8889', change: '-0.0011', transaction: { type: 'DEDUCTION' } });
      await watch.events.return?.();
    } finally {
      await client.dispose();
    }
  });

  it("refuses a subscription to another organization's wallet", async () => {
    const owner = await createOrganization(app);
    const { walletId } = await createWorkspace(app, owner.ownerToken);
    const stranger = await createOrganization(app);
    const client = wsClient(stranger.ownerToken);
    try {
      const events = client.iterate({ query: BALANCE, variables: { walletId } });
      const { value } = await events.next();
      expect(value.data ?? null).toBeNull();
      expect(value.errors).toEqual([expect.objectContaining({ message: 'walletId: no such wallet' })]);
    } finally {
      await client.dispose();
    }
  });

  it('refuses a connection with an invalid token', async () => {
    const client = wsClient('not-a-real-token-at-all');
    try {
      const events = client.iterate({ query: BALANCE, variables: { walletId: 'wal_0000000000000000000000' } });
      await expect(events.next()).rejects.toMatchObject({ code: 4401 });
    } finally {
      await client.dispose();
    }
  });

  it('lets a viewer of the organization and the platform admin watch', async () => {
    const org = await createOrganization(app);
    const { walletId } = await createWorkspace(app, org.ownerToken);
    const viewer = await createMemberWithToken(app, org.ownerToken, 'VIEWER');
    for (const token of [viewer.token, ADMIN_TOKEN]) {
      const client = wsClient(token);
      try {
        const watch = await watchBalance(client, walletId);
        const before = BigInt(watch.first.balance.replace('.', ''));
        await fund(app, walletId, '1');
        expect(BigInt((await watch.next()).balance.replace('.', ''))).toBe(before + 1n);
        await watch.events.return?.();
      } finally {
        await client.dispose();
      }
    }
  });

  it("ends a subscription when its token is revoked, and leaves the other token's", async () => {
    const org = await createOrganization(app);
    const { walletId } = await createWorkspace(app, org.ownerToken);
    const viewer = await createMemberWithToken(app, org.ownerToken, 'VIEWER');
    const revoked = wsClient(viewer.token);
    const kept = wsClient(org.ownerToken);
    try {
      const watched = await watchBalance(revoked, walletId);
      const stillWatched = await watchBalance(kept, walletId);
      const { memberTokenRevoke } = await app.data(MEMBER_TOKEN_REVOKE, { input: { accessTokenId: viewer.tokenId } }, org.ownerToken);
      expect(memberTokenRevoke.userErrors).toEqual([]);
      await expect(watched.next()).rejects.toMatchObject({ code: 4401 });
      await fund(app, walletId, '1');
      expect(await stillWatched.next()).toMatchObject({ balance: '1' });
    } finally {
      await revoked.dispose();
      await kept.dispose();
    }
  });

  it('merges a burst of 5,000 debits into a bounded number of events, the last with the final balance', async () => {
    const fixture = await gatewaySetup(app, '100');
    const client = wsClient(fixture.ownerToken);
    try {
      const watch = await watchBalance(client, fixture.walletId);
      const received: BalanceEvent[] = [];
      const started = Date.now();
      const debits = Array.from({ length: 10 }, () =>
        app.data(
          DEBIT_BATCH,
          { input: { debits: Array.from({ length: 500 }, () => ({ apiKey: fixture.secret, model: fixture.model, idempotencyKey: requestKey(), inputTokens: 1000, outputTokens: 0 })) } },
          GATEWAY_TOKEN,
        ),
      );
      // 5,000 × $0.0011 = $5.50 spent.
      while (received.at(-1)?.balance !== '94.5') received.push(await watch.next());
      await Promise.all(debits);
      expect(received.reduce((sum, event) => sum + Number(event.change), 0)).toBeCloseTo(-5.5, 9);
      // At most one event per 100 ms, plus the one that ends the last window.
      expect(received.length).toBeLessThanOrEqual(Math.ceil((Date.now() - started) / 100) + 1);
      expect(received.length).toBeLessThan(5000 / 10);
      await watch.events.return?.();
    } finally {
      await client.dispose();
    }
  });
});

describe('transactionRecorded over graphql-ws', () => {
  it('delivers each new ledger row of the wallet, only of the types asked for', async () => {
    const fixture = await gatewaySetup(app, '1');
    const client = wsClient(fixture.ownerToken);
    try {
      const listening = await subscriptionsListening(app.server.url, TOPICS.transactionRecorded);
      const all = client.iterate<{ transactionRecorded: { type: string; amount: string } }>({ query: RECORDED, variables: { walletId: fixture.walletId } });
      const manualOnly = client.iterate<{ transactionRecorded: { type: string; amount: string } }>({
        query: RECORDED,
        variables: { walletId: fixture.walletId, types: ['MANUAL'] },
      });
      const nextAll = all.next();
      const nextManual = manualOnly.next();
      await untilListening(app.server.url, TOPICS.transactionRecorded, listening + 2);
      await debitAtOnce([app.server.url], fixture, 2);
      await fund(app, fixture.walletId, '3');
      expect((await nextAll).value.data?.transactionRecorded).toMatchObject({ type: 'DEDUCTION', amount: '-0.0011' });
      expect((await all.next()).value.data?.transactionRecorded).toMatchObject({ type: 'DEDUCTION', amount: '-0.0011' });
      expect((await all.next()).value.data?.transactionRecorded).toMatchObject({ type: 'MANUAL', amount: '3' });
      expect((await nextManual).value.data?.transactionRecorded).toMatchObject({ type: 'MANUAL', amount: '3' });
      await all.return?.();
      await manualOnly.return?.();
    } finally {
      await client.dispose();
    }
  });
});

describe('across server processes, through Redis', () => {
  it('delivers a debit made on one process to a subscriber on another within a second', async () => {
    const redisApp = await startTestApp({ bus: await createRedisEventBus(REDIS_URL, createLogger('silent')) });
    const other = await spawnServer({ REDIS_URL });
    const fixture = await gatewaySetup(app, '1');
    const client = wsClient(fixture.ownerToken, redisApp);
    try {
      const watch = await watchBalance(client, fixture.walletId);
      const sentAt = Date.now();
      expect((await debitAtOnce([other.url], fixture, 1)).allowed).toBe(1);
      expect(await watch.next()).toMatchObject({ balance: '0.9989', change: '-0.0011', transaction: { type: 'DEDUCTION' } });
      expect(Date.now() - sentAt).toBeLessThan(1000);
      await watch.events.return?.();
    } finally {
      await client.dispose();
      other.process.kill('SIGTERM');
      await redisApp.close();
      await redisApp.server.bus.close();
    }
  }, 60_000);

  it('starts and serves with Redis unreachable, says so in /readyz, and still stops cleanly', async () => {
    const server = await spawnServer({ REDIS_URL: 'redis://127.0.0.1:1' });
    const fixture = await gatewaySetup(app, '1');
    const subscriber = wsClient(fixture.ownerToken, server.url);
    try {
      const client = graphqlClient(server.url);
      expect(await client.data('{ viewer { organization { name } } }', {}, fixture.ownerToken)).toEqual({ viewer: { organization: { name: expect.any(String) } } });
      expect(await debit(client, fixture)).toMatchObject({ allowed: true, availableBalance: '0.9989' });
      expect(await readyz(server.url)).toEqual({ status: 200, body: { status: 'ready', redis: 'unavailable' } });
      // A subscription waiting for Redis does not hold up the shutdown.
      expect((await watchBalance(subscriber, fixture.walletId)).first.balance).toBe('0.9989');
    } finally {
      expect(await stopServer(server)).toEqual([0, null]);
      await subscriber.dispose();
    }
  }, 60_000);

  it('starts without Redis, and once Redis comes up a subscriber on one process sees a debit made on another', async () => {
    const absent = await absentRedis();
    const { port } = absent;
    const env = { REDIS_URL: `redis://127.0.0.1:${port}`, LOG_LEVEL: 'info' };
    // One after the other: pg-boss can deadlock creating its queues when two processes start at once on a fresh database.
    const watching = await spawnServer(env);
    const debiting = await spawnServer(env).catch(async (error) => {
      await stopServer(watching);
      throw error;
    });
    const fixture = await gatewaySetup(app, '1');
    const client = wsClient(fixture.ownerToken, watching.url);
    let redis: ChildProcessWithoutNullStreams | undefined;
    try {
      for (const server of [watching, debiting]) expect(await readyz(server.url)).toEqual({ status: 200, body: { status: 'ready', redis: 'unavailable' } });
      // The first event comes from the database; the subscription to Redis waits for it.
      const watch = await watchBalance(client, fixture.walletId);
      expect(watch.first.balance).toBe('1');
      // Away for more attempts than ioredis allows a command by default (20 retries, ~10 s): the
      // waiting subscription must outlast them. Four connections (two per process) try in step.
      await eventually(async () => absent.attempts() >= 4 * 25, 60_000);
      await absent.close();

      redis = await startRedis(port);
      for (const server of [watching, debiting]) await eventually(async () => (await readyz(server.url)).body.redis === 'connected');
      const channel = `tollgate:${TOPICS.walletBalanceChanged}:${fixture.walletId}`;
      const probe = new Redis(`redis://127.0.0.1:${port}`);
      try {
        await eventually(async () => ((await probe.pubsub('NUMSUB', channel)) as [string, number])[1] === 1);
      } finally {
        probe.disconnect();
      }

      expect(await debit(graphqlClient(debiting.url), fixture)).toMatchObject({ allowed: true, availableBalance: '0.9989' });
      expect(await watch.next()).toMatchObject({ balance: '0.9989', change: '-0.0011', transaction: { type: 'DEDUCTION' } });
      await watch.events.return?.();

      // Each change of state is logged once, however many times the connection was tried meanwhile.
      for (const server of [watching, debiting]) {
        const messages = logMessages(server).filter((message) => message.startsWith('Redis'));
        expect(messages).toEqual([expect.stringMatching(/^Redis unreachable at start/), expect.stringMatching(/^Redis connected/)]);
      }
    } finally {
      await client.dispose();
      await Promise.all([stopServer(watching), stopServer(debiting)]);
      await absent.close();
      redis?.kill('SIGKILL');
    }
  }, 90_000);

  it('keeps debiting while Redis is down, and the stream resumes when it is back', async () => {
    // A Redis of this test's own, so that stopping it disturbs nothing else.
    const port = await freePort();
    let redis = await startRedis(port);
    const logged: Array<{ msg: string; droppedEvents?: number }> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line)) });
    const redisApp = await startTestApp({ bus: await createRedisEventBus(`redis://127.0.0.1:${port}`, logger) });
    const fixture = await gatewaySetup(app, '1');
    const client = wsClient(fixture.ownerToken, redisApp);
    try {
      const watch = await watchBalance(client, fixture.walletId);
      expect((await debit(redisApp, fixture)).allowed).toBe(true);
      expect(await watch.next()).toMatchObject({ balance: '0.9989' });

      redis.kill('SIGKILL');
      await once(redis, 'exit');
      const startedAt = Date.now();
      for (let i = 0; i < 3; i += 1) expect((await debit(redisApp, fixture)).allowed).toBe(true);
      expect(Date.now() - startedAt).toBeLessThan(1000);

      redis = await startRedis(port);
      // The subscriber reconnects by itself: debits go on until their events arrive again, and
      // the stream then catches up with the last balance.
      const resumed = watch.next();
      let last = '';
      for (let tries = 0; ; tries += 1) {
        if (tries > 100) throw new Error('no event after Redis came back');
        last = (await debit(redisApp, fixture)).availableBalance;
        if (await Promise.race([resumed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 100))])) break;
      }
      let latest = await resumed;
      while (latest.balance !== last) latest = await watch.next();
      expect(latest.balance).toBe(last);
      await watch.events.return?.();

      // Each change of state is logged once, however many times the connection was tried meanwhile.
      const changes = logged.filter((line) => line.msg.startsWith('Redis'));
      expect(changes.map((line) => line.msg)).toEqual([
        expect.stringMatching(/^Redis connected/),
        expect.stringMatching(/^Redis connection lost/),
        expect.stringMatching(/^Redis is back/),
      ]);
      // At least an event for each of the three debits of the outage.
      expect(changes[2].droppedEvents).toBeGreaterThanOrEqual(3);
    } finally {
      await client.dispose();
      await redisApp.close();
      await redisApp.server.bus.close();
      redis.kill('SIGKILL');
    }
  }, 60_000);
});

/** A Redis server of the test's own on `port`, once it accepts connections. */
async function startRedis(port: number) {
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  await new Promise<void>((resolve) => redis.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('Ready to accept') && resolve()));
  return redis;
}

/** A port where Redis is absent: each connection is counted and closed at once. */
async function absentRedis() {
  let attempts = 0;
  const server = createServer((socket) => {
    attempts += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let closed: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    attempts: () => attempts,
    close: () => (closed ??= new Promise<void>((resolve) => server.close(() => resolve()))),
  };
}

async function readyz(baseUrl: string) {
  const response = await fetch(`${baseUrl}/readyz`);
  return { status: response.status, body: (await response.json()) as { status: string; reason?: string; redis?: string } };
}

/** The messages of a server's JSON log lines. */
const logMessages = (server: ServerProcess) =>
  server
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line).msg as string);

/** Stops a server with SIGTERM, and gives its exit code and signal: a shutdown that hangs is ended by force after 10 s, and shows as SIGKILL. */
async function stopServer({ process: child }: ServerProcess): Promise<[number | null, NodeJS.Signals | null]> {
  if (child.exitCode !== null || child.signalCode !== null) return [child.exitCode, child.signalCode];
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  child.kill('SIGTERM');
  const stuck = setTimeout(() => child.kill('SIGKILL'), 10_000);
  try {
    return await exited;
  } finally {
    clearTimeout(stuck);
  }
}
