import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An alert webhook receiver on loopback that answers each delivery with the next of `statuses` (then 200), and keeps what it got. */
export async function startWebhookReceiver(statuses: number[] = []) {
  const received: Array<{ signature: string; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ signature: String(req.headers['tollgate-signature']), body });
      res.writeHead(statuses.shift() ?? 200).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/tollgate`, port, received, close: () => server.close() };
}
