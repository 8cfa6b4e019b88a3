import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { GATEWAY_TOKEN, useTestApp } from './support/app';
import { DEBIT, gatewaySetup, requestKey } from './support/gateway';
import { spawnServer } from './support/process';

const app = useTestApp();

/**
 * A TCP relay in front of the test's PostgreSQL: stopping it is, for the server behind it, the
 * database going away (open connections cut, new ones refused); starting it again, the database
 * coming back. The other test files, on the same PostgreSQL, see nothing of it.
 */
function databaseRelay(target: URL) {
  let server: Server | null = null;
  const sockets = new Set<Socket>();
  let port = 0;
  return {
    async start(): Promise<number> {
      server = createServer((client) => {
        const upstream = createConnection(Number(target.port || 5432), target.hostname);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
      return port;
    },
    async stop(): Promise<void> {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server?.close(resolve));
    },
  };
}

describe('a database outage', () => {
  it('fails calls meanwhile with a clean error, and serves again when the database is back, without a restart', async () => {
    const fixture = await gatewaySetup(app, '10');
    const target = new URL(process.env.TOLLGATE_TEST_DATABASE_URL!);
    const relay = databaseRelay(target);
    const viaRelay = new URL(target);
    viaRelay.port = String(await relay.start());
    const server = await spawnServer({ DATABASE_URL: viaRelay.toString() });
    const send = async () => {
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${GATEWAY_TOKEN}` },
        body: JSON.stringify({
          query: DEBIT,
          variables: { input: { apiKey: fixture.secret, model: fixture.model, idempotencyKey: requestKey(), inputTokens: 1000, outputTokens: 0 } },
        }),
      });
      const body = (await response.json()) as { data?: { gatewayDebit: { allowed: boolean } } | null; errors?: Array<{ message: string; extensions: { code: string } }> };
      return { status: response.status, allowed: body.data?.gatewayDebit.allowed === true, errors: body.errors ?? null };
    };
    try {
      expect((await send()).allowed).toBe(true);

      await relay.stop();
      const during = await send();
      expect(during).toMatchObject({ allowed: false, errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

      await relay.start();
      let after = await send();
      for (let tries = 0; !after.allowed && tries < 20; tries += 1) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        after = await send();
      }
      expect(after.allowed).toBe(true);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      expect(server.process.exitCode).toBeNull();
    } finally {
      server.process.kill('SIGKILL');
      await relay.stop();
    }
  }, 60_000);
});
