import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay in front of the test's PostgreSQL: stopping it is, for a server behind it, the
 * database going away (open connections cut, new ones refused); starting it again, the database
 * coming back. The other test files, on the same PostgreSQL, see nothing of it.
 */
export function databaseRelay(target: URL) {
  let server: Server | null = null;
  const sockets = new Set<Socket>();
  let port = 0;
  return {
    /** Starts relaying (again, on the same port), if it is not; gives the database URL through the relay. */
    async start(): Promise<string> {
      if (!server) await listen();
      const viaRelay = new URL(target);
      viaRelay.port = String(port);
      return viaRelay.toString();
    },
    async stop(): Promise<void> {
      for (const socket of sockets) socket.destroy();
      const stopping = server;
      server = null;
      await new Promise((resolve) => (stopping ? stopping.close(resolve) : resolve(undefined)));
    },
  };

  async function listen(): Promise<void> {
    const listening = createServer((client) => {
      const upstream = createConnection(Number(target.port || 5432), target.hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => listening.listen(port, '127.0.0.1', resolve));
    port = (listening.address() as { port: number }).port;
    server = listening;
  }
}
