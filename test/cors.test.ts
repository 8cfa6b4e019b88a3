import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { startTestApp, type TestApp } from './support/app';
import { gatewaySetup } from './support/gateway';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A dashboard page on its own origin: it calls the API with fetch and subscribes with graphql-ws (the API serves its UMD). */
const page = (api: string) => `<!doctype html><html><body>
<script src="${api}/graphiql/graphql-ws.js"></script>
<script>
window.callApi = async (token, query) => {
  const response = await fetch('${api}/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, requestId: response.headers.get('x-request-id'), body: await response.json() };
};
window.firstEvent = (token, query) => new Promise((resolve, reject) => {
  const client = graphqlWs.createClient({ url: '${api.replace(/^http/, 'ws')}/graphql', connectionParams: { authorization: token }, retryAttempts: 0 });
  client.subscribe({ query }, { next: (result) => { resolve(result); client.dispose(); }, error: (error) => reject(String(error && error.code)), complete: () => undefined });
});
</script></body></html>`;

function servePage(html: () => string): Promise<Server> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html()));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('CORS: a dashboard on its own origin, in Chromium', () => {
  if (!existsSync(CHROMIUM)) {
    it.skip(`is skipped: Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium, as .ci/run does)`, () => undefined);
    return;
  }
  let app: TestApp;
  let allowed: Server;
  let other: Server;
  const origin = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  beforeAll(async () => {
    allowed = await servePage(() => page(app.server.url));
    other = await servePage(() => page(app.server.url));
    app = await startTestApp({ cors: { origins: [origin(allowed)], loopback: false } });
  });
  afterAll(async () => {
    await app.close();
    allowed.close();
    other.close();
  });

  it('lets an allowed origin query with its token and subscribe; keeps the answers from any other origin', async () => {
    const fixture = await gatewaySetup(app, '2');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const tab = await browser.newPage();
      await tab.goto(origin(allowed));
      const answer = await tab.evaluate(([token]) => (globalThis as any).callApi(token, '{ viewer { organization { id } } }'), [fixture.ownerToken]);
      expect(answer).toEqual({ status: 200, requestId: expect.any(String), body: { data: { viewer: { organization: { id: fixture.organizationId } } } } });
      const event = await tab.evaluate(
        ([token, walletId]) => (globalThis as any).firstEvent(token, `subscription { walletBalanceChanged(walletId: "${walletId}") { balance } }`),
        [fixture.ownerToken, fixture.walletId],
      );
      expect(event).toEqual({ data: { walletBalanceChanged: { balance: '2' } } });

      const elsewhere = await browser.newPage();
      await elsewhere.goto(origin(other));
      const refused = await elsewhere.evaluate(([token]) => (globalThis as any).callApi(token, '{ viewer { kind } }').then(() => 'answered', (error: Error) => error.name), [fixture.ownerToken]);
      expect(refused).toBe('TypeError');
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('answers the preflight of an allowed origin with the headers a dashboard sends, and nothing for another', async () => {
    const preflight = (from: string) =>
      fetch(`${app.server.url}/graphql`, {
        method: 'OPTIONS',
        headers: { origin: from, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
    const yes = await preflight(origin(allowed));
    expect(yes.status).toBe(204);
    expect(yes.headers.get('access-control-allow-origin')).toBe(origin(allowed));
    expect(yes.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    const no = await preflight('https://evil.example');
    expect(no.headers.get('access-control-allow-origin')).toBeNull();
    // Apollo's CSRF prevention still refuses a simple cross-site GET.
    const simple = await fetch(`${app.server.url}/graphql?query=${encodeURIComponent('{ modelPrices { nodes { model } } }')}`, { headers: { origin: 'https://evil.example' } });
    expect(simple.status).toBe(400);
  });
});
