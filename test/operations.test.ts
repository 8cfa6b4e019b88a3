import { once } from 'node:events';
import { MikroORM } from '@mikro-orm/postgresql';
import { ormConfig } from '../mikro-orm.config';
import { createLogger } from '../src/logger';
import { startApp } from '../src/app';
import { GATEWAY_TOKEN, subscriptionClient, useTestApp } from './support/app';
import { onFreshDatabase } from './support/database';
import { DEBIT, debit, gatewaySetup, requestKey } from './support/gateway';
import { type ServerProcess, spawnServer } from './support/process';

const app = useTestApp();

describe('/readyz', () => {
  it('is ready when the database answers and every migration has run', async () => {
    const response = await fetch(`${app.server.url}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ready' });
  });

  it('is not ready, with the reason, on a database that was not migrated', () =>
    onFreshDatabase('unmigrated', async (url) => {
      const orm = await MikroORM.init(ormConfig(url, 2));
      const server = await startApp({ em: orm.em, logger: createLogger('silent'), auth: { adminTokens: [], gatewayTokens: [] }, port: 0, host: '127.0.0.1' });
      try {
        const response = await fetch(`${server.url}/readyz`);
        expect(response.status).toBe(503);
        expect(await response.json()).toEqual({ status: 'unavailable', reason: expect.stringMatching(/^migrations not applied: Migration20261123000000_foundation, /) });
        await orm.getMigrator().up({ to: 'Migration20261123000000_foundation' });
        const partly = await fetch(`${server.url}/readyz`);
        expect(partly.status).toBe(503);
        expect(((await partly.json()) as { reason: string }).reason).toMatch(/^migrations not applied: Migration20261123010000_gateway, /);
      } finally {
        await server.close();
        await orm.close(true);
      }
    }));
});

describe('replicas started together', () => {
  it('all start on a fresh database and serve: migrations and the job queue schema are made once', () =>
    onFreshDatabase('replicas', async (url) => {
      const started = await Promise.allSettled(Array.from({ length: 3 }, () => spawnServer({ DATABASE_URL: url })));
      try {
        expect(started.map((result) => (result.status === 'rejected' ? String(result.reason) : 'started'))).toEqual(['started', 'started', 'started']);
        for (const result of started) {
          const response = await fetch(`${(result as PromiseFulfilledResult<ServerProcess>).value.url}/readyz`);
          expect(response.status).toBe(200);
        }
      } finally {
        for (const result of started) if (result.status === 'fulfilled') result.value.process.kill('SIGKILL');
      }
    }), 60_000);
});

describe('/metrics', () => {
  /** The value of one sample line, e.g. `tollgate_gateway_denials_total{code="INSUFFICIENT_CREDITS"}`. */
  const sample = (text: string, line: string) => {
    const found = text.split('\n').find((row) => row.startsWith(`${line} `));
    return found ? Number(found.slice(line.length + 1)) : 0;
  };
  const scrape = async () => (await fetch(`${app.server.url}/metrics`)).text();

  it('counts operations per transport, gateway batches and denials, and times pub/sub delivery', async () => {
    const fixture = await gatewaySetup(app, '0.0011');
    const before = await scrape();
    const client = subscriptionClient(app, fixture.ownerToken);
    try {
      const events = client.iterate({ query: `subscription { walletBalanceChanged(walletId: "${fixture.walletId}") { balance } }` });
      await events.next();
      expect((await debit(app, fixture)).allowed).toBe(true);
      await events.next();
      await events.return?.();
      const gatewayWs = subscriptionClient(app, GATEWAY_TOKEN);
      const answer = await gatewayWs
        .iterate({ query: DEBIT, variables: { input: { apiKey: fixture.secret, model: fixture.model, idempotencyKey: requestKey(), inputTokens: 1000, outputTokens: 0 } } })
        .next();
      expect(answer.value.data.gatewayDebit.denial.code).toBe('INSUFFICIENT_CREDITS');
      await gatewayWs.dispose();
    } finally {
      await client.dispose();
    }
    const response = await fetch(`${app.server.url}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const after = await response.text();
    const grew = (line: string) => sample(after, line) - sample(before, line);
    expect(grew('tollgate_graphql_operations_total{operation="mutation gatewayDebit",transport="http",outcome="ok"}')).toBe(1);
    expect(grew('tollgate_graphql_operations_total{operation="mutation gatewayDebit",transport="ws",outcome="ok"}')).toBe(1);
    expect(grew('tollgate_graphql_operation_duration_seconds_count{operation="mutation gatewayDebit",transport="http"}')).toBe(1);
    expect(grew('tollgate_gateway_batch_size_count')).toBeGreaterThanOrEqual(2);
    expect(grew('tollgate_gateway_commit_duration_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(grew('tollgate_gateway_denials_total{code="INSUFFICIENT_CREDITS"}')).toBe(1);
    expect(grew('tollgate_pubsub_lag_seconds_count{topic="WALLET_BALANCE_CHANGED"}')).toBeGreaterThanOrEqual(1);
    expect(after).toMatch(/^tollgate_process_resident_memory_bytes \d+/m);
  });
});

describe('request ids', () => {
  it('answers with the caller’s request id, or a new one, and logs it on every line of the request', async () => {
    const given = await fetch(`${app.server.url}/healthz`, { headers: { 'x-request-id': 'proxy-1234.abc' } });
    expect(given.headers.get('x-request-id')).toBe('proxy-1234.abc');
    const made = await fetch(`${app.server.url}/healthz`, { headers: { 'x-request-id': 'not valid!' } });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    const server = await spawnServer({ LOG_LEVEL: 'debug' });
    let output = '';
    server.process.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'trace-42' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      for (let waited = 0; !output.includes('trace-42') && waited < 5000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
      const line = JSON.parse(output.split('\n').find((row) => row.includes('trace-42'))!);
      expect(line).toMatchObject({ level: 20, service: 'tollgate', requestId: 'trace-42', msg: 'request served', method: 'POST', path: '/graphql', status: 200 });
    } finally {
      const exited = once(server.process, 'exit');
      server.process.kill('SIGTERM');
      await exited;
    }
  });
});
