import { once } from 'node:events';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { GATEWAY_TOKEN, useTestApp } from './support/app';
import { DEBIT, gatewaySetup, postDebit, requestKey } from './support/gateway';
import { spawnServer } from './support/process';

const app = useTestApp();

describe('SIGTERM', () => {
  it('under load: answers what it accepted, loses no acknowledged debit, closes subscriptions with 1001, exits 0', async () => {
    const fixture = await gatewaySetup(app, '100');
    const server = await spawnServer({ NODE_ENV: 'production' });
    const exited = once(server.process, 'exit');

    let closeCode: number | null = null;
    const subscriber = createClient({
      url: `${server.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${fixture.ownerToken}` },
      retryAttempts: 0,
      on: { closed: (event) => (closeCode = (event as { code: number }).code) },
    });
    const events = subscriber.iterate({ query: `subscription { walletBalanceChanged(walletId: "${fixture.walletId}") { balance } }` });
    await events.next();

    const acknowledged: string[] = [];
    let refused = 0;
    const worker = async () => {
      for (;;) {
        try {
          const body = await postDebit(server.url, fixture);
          if (body.data?.gatewayDebit.allowed) acknowledged.push(body.data.gatewayDebit.transactionId!);
          else return;
        } catch {
          // The server stopped accepting connections.
          refused += 1;
          return;
        }
      }
    };
    // The fast transport too: debits over one WebSocket, one after the other.
    const gatewaySocket = createClient({
      url: `${server.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${GATEWAY_TOKEN}` },
      retryAttempts: 0,
    });
    const refusedOverWs: string[] = [];
    const wsWorker = async () => {
      for (;;) {
        try {
          const { value } = await gatewaySocket
            .iterate({ query: DEBIT, variables: { input: { apiKey: fixture.secret, model: fixture.model, idempotencyKey: requestKey(), inputTokens: 1000, outputTokens: 0 } } })
            .next();
          if (value?.data?.gatewayDebit.allowed) acknowledged.push(value.data.gatewayDebit.transactionId);
          else if (value?.errors) refusedOverWs.push(value.errors[0].extensions?.code as string);
          else return;
        } catch {
          return;
        }
      }
    };
    const load = Promise.all([...Array.from({ length: 32 }, worker), wsWorker()]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    server.process.kill('SIGTERM');
    const stuck = setTimeout(() => server.process.kill('SIGKILL'), 20_000);
    expect(await exited).toEqual([0, null]);
    clearTimeout(stuck);
    await load;

    expect(acknowledged.length).toBeGreaterThan(0);
    expect(refused).toBe(32);
    const rows = await app.orm.em.fork().execute<Array<{ id: string }>>('select id from transactions where id in (?)', [acknowledged]);
    expect(rows).toHaveLength(acknowledged.length);
    expect(closeCode).toBe(1001);
    // Operations sent while it stops are refused with a code that says to send them elsewhere.
    expect(refusedOverWs.every((code) => code === 'SHUTTING_DOWN')).toBe(true);
    await subscriber.dispose();
    await gatewaySocket.dispose();
  }, 60_000);
});
