import { once } from 'node:events';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { GATEWAY_TOKEN, useTestApp } from './support/app';
import { eventually } from './support/fixtures';
import { DEBIT, gatewaySetup, postDebit, requestKey } from './support/gateway';
import { spawnServer } from './support/process';

const app = useTestApp();
const HTTP_WORKERS = 20;
const WS_WORKERS = 20;

describe('SIGTERM', () => {
  it(`under ${HTTP_WORKERS} HTTP keep-alive and ${WS_WORKERS} WebSocket workers: every committed debit is answered, the rest refused cleanly; subscriptions close with 1001; exit 0`, async () => {
    const fixture = await gatewaySetup(app, '1000');
    const server = await spawnServer({ NODE_ENV: 'production' });
    const exited = once(server.process, 'exit');
    const wsUrl = `${server.url.replace(/^http/, 'ws')}/graphql`;

    let closeCode: number | null = null;
    const subscriber = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${fixture.ownerToken}` },
      retryAttempts: 0,
      on: { closed: (event) => (closeCode = (event as { code: number }).code) },
    });
    const events = subscriber.iterate({ query: `subscription { walletBalanceChanged(walletId: "${fixture.walletId}") { balance } }` });
    await events.next();

    /** Idempotency key → the transaction of its answer. */
    const answered = new Map<string, string>();
    /** How each worker ended: a clean refusal says to send it elsewhere; a cut connection says nothing. */
    const endings: string[] = [];
    const httpWorker = async () => {
      for (;;) {
        const idempotencyKey = requestKey();
        let body: Awaited<ReturnType<typeof postDebit>>;
        try {
          body = await postDebit(server.url, fixture, { idempotencyKey });
        } catch {
          return endings.push('connection refused or cut');
        }
        if (body.data?.gatewayDebit.allowed) answered.set(idempotencyKey, body.data.gatewayDebit.transactionId!);
        else return endings.push(body.errors?.[0].extensions.code ?? JSON.stringify(body));
      }
    };
    const sockets = Array.from({ length: WS_WORKERS }, () =>
      createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: GATEWAY_TOKEN }, retryAttempts: 0, lazy: false, onNonLazyError: () => undefined }),
    );
    const wsWorker = async (socket: (typeof sockets)[number]) => {
      for (;;) {
        const idempotencyKey = requestKey();
        const input = { apiKey: fixture.secret, model: fixture.model, idempotencyKey, inputTokens: 1000, outputTokens: 0 };
        try {
          const { value } = await socket.iterate<any>({ query: DEBIT, variables: { input } }).next();
          if (value?.data?.gatewayDebit.allowed) answered.set(idempotencyKey, value.data.gatewayDebit.transactionId);
          else return endings.push(value?.errors?.[0].extensions?.code ?? JSON.stringify(value));
        } catch (error) {
          return endings.push(Array.isArray(error) ? (error[0].extensions?.code ?? 'error') : 'socket closed');
        }
      }
    };
    const load = Promise.all([...Array.from({ length: HTTP_WORKERS }, httpWorker), ...sockets.map(wsWorker)]);
    await eventually(async () => answered.size >= 400);
    server.process.kill('SIGTERM');
    const stuck = setTimeout(() => server.process.kill('SIGKILL'), 20_000);
    expect(await exited).toEqual([0, null]);
    clearTimeout(stuck);
    await load;

    const committed = await app.orm.em
      .fork()
      .execute<Array<{ id: string; idempotency_key: string }>>("select id, idempotency_key from transactions where wallet_id = ? and type = 'DEDUCTION'", [fixture.walletId]);
    const unanswered = committed.filter((row) => answered.get(row.idempotency_key) !== row.id);
    expect({ committed: committed.length, unanswered }).toEqual({ committed: answered.size, unanswered: [] });
    expect(endings).toHaveLength(HTTP_WORKERS + WS_WORKERS);
    expect(new Set(endings)).toEqual(new Set(endings.filter((ending) => ['SHUTTING_DOWN', 'connection refused or cut', 'socket closed'].includes(ending))));
    expect(closeCode).toBe(1001);
    await subscriber.dispose();
    await Promise.all(sockets.map((socket) => socket.dispose()));
  }, 60_000);
});
