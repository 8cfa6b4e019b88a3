import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { graphqlClient } from './support/app';
import { DEBIT, requestKey } from './support/gateway';
import { type EmbeddedServer, embeddedEnv, npmStart, ROOT, startBuilt, stop } from './support/embedded';
import { spawnServer } from './support/process';

const demoDebit = (apiKey: string) => ({ apiKey, model: 'openai/gpt-4o-mini', idempotencyKey: requestKey(), inputTokens: 1000, outputTokens: 0 });

const ACCEPTANCE_QUERY = `{ viewer { organization { name workspaces { nodes { name wallet { balance
  transactions(first: 1) { edges { node { type } } } } } } } } }`;

async function query(url: string, token: string, source: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: source }),
  });
  return response.json() as Promise<any>;
}

/** An address of this machine other than loopback, through which it is reached from elsewhere. */
const OUTSIDE_ADDRESS = Object.values(networkInterfaces())
  .flat()
  .find((address) => address && !address.internal && address.family === 'IPv4')?.address;

function connectTo(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host, () => {
      socket.destroy();
      resolve();
    });
    socket.on('error', reject);
  });
}

/** GraphiQL's page as a browser asks for it, sent to `host` (which also gives the connection's source address). */
function graphiqlHtml(host: string, port: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host, port, path: '/graphql', headers: { accept: 'text/html', ...headers } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => (response.statusCode === 200 ? resolve(body) : reject(new Error(`GraphiQL answered ${response.statusCode}`))));
    }).on('error', reject);
  });
}

describe('npm start on a fresh machine (embedded PGlite)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-embedded-'));
  // One cold start for the tests that only read; the later ones restart on its data directory.
  let first: EmbeddedServer;
  beforeAll(async () => {
    first = await npmStart(dataDir);
  }, 120_000);
  afterAll(async () => {
    await stop(first);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the demo organization with $25', async () => {
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    const answer = await query(first.url, first.ownerToken, ACCEPTANCE_QUERY);
    expect(answer.data.viewer.organization.name).toBe('Demo Organization');
    expect(answer.data.viewer.organization.workspaces.nodes).toEqual([
      { name: 'Default', wallet: { balance: '25', transactions: { edges: [{ node: { type: 'DEDUCTION' } }] } } },
      { name: 'Research', wallet: expect.objectContaining({ balance: expect.any(String) }) },
    ]);
    const admin = await query(first.url, first.adminToken, '{ viewer { kind } }');
    expect(admin).toEqual({ data: { viewer: { kind: 'PLATFORM_ADMIN' } } });
    // The chat backend's traces are counted against the allowance; the history charges none.
    const meters = await query(first.url, first.ownerToken, '{ viewer { organization { workspaces { nodes { meters { meter { name unitPrice } includedPerMonth billed } } } } } }');
    expect(meters.data.viewer.organization.workspaces.nodes[0].meters).toEqual([{ meter: { name: 'trace', unitPrice: '0.0005' }, includedPerMonth: '10000', billed: '0' }]);
  });

  it('listens on 127.0.0.1 only', async () => {
    const { port } = new URL(first.url);
    const listening = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' });
    expect(listening.trim().split('\n').map((line) => line.trim().split(/\s+/)[3])).toEqual([`127.0.0.1:${port}`]);
    if (OUTSIDE_ADDRESS) await expect(connectTo(OUTSIDE_ADDRESS, Number(port))).rejects.toThrow(/ECONNREFUSED/);
  });

  it('keeps data, tokens and the demo key across a restart', async () => {
    await stop(first);
    const second = await startBuilt(dataDir);
    try {
      for (const printed of ['ownerToken', 'adminToken', 'gatewayToken', 'apiKey'] as const) expect(second[printed]).toBe(first[printed]);
      const again = await query(second.url, second.ownerToken, ACCEPTANCE_QUERY);
      expect(again.data.viewer.organization.workspaces.nodes[0].wallet.balance).toBe('25');
      const client = graphqlClient(second.baseUrl);
      const { gatewayDebit } = await client.data(DEBIT, { input: demoDebit(second.apiKey) }, second.gatewayToken);
      expect(gatewayDebit).toMatchObject({ allowed: true });
    } finally {
      await stop(second);
    }
  }, 120_000);

  (OUTSIDE_ADDRESS ? it : it.skip)('pre-fills the demo token in GraphiQL for a browser on this machine only, whatever HOST is', async () => {
    const started = await startBuilt(dataDir, { HOST: '0.0.0.0' });
    try {
      const { port } = new URL(started.url);
      const token = `Bearer ${started.ownerToken}`;
      expect(await graphiqlHtml('127.0.0.1', port)).toContain(token);
      expect(await graphiqlHtml('127.0.0.1', port, { host: `localhost:${port}` })).toContain(token);
      // The same server reached through this machine's network address: a request from elsewhere.
      expect(await graphiqlHtml(OUTSIDE_ADDRESS!, port)).not.toContain(token);
      expect(await graphiqlHtml(OUTSIDE_ADDRESS!, port, { 'x-forwarded-for': '127.0.0.1', host: `127.0.0.1:${port}` })).not.toContain(token);
      // Through a proxy on this machine, the one asking is elsewhere.
      expect(await graphiqlHtml('127.0.0.1', port, { 'x-forwarded-for': '203.0.113.9' })).not.toContain(token);
      expect(await graphiqlHtml('127.0.0.1', port, { forwarded: 'for=203.0.113.9' })).not.toContain(token);
      // A web page whose own name resolves to 127.0.0.1 must not read the token (DNS rebinding).
      expect(await graphiqlHtml('127.0.0.1', port, { host: `rebound.example:${port}` })).not.toContain(token);
    } finally {
      await stop(started);
    }
  }, 120_000);

  it('stops cleanly on SIGTERM with the production environment', async () => {
    const server = await spawnServer({ NODE_ENV: 'production' });
    const exited = once(server.process, 'exit');
    server.process.kill('SIGTERM');
    // A shutdown that hangs is ended by force, and shows as SIGKILL.
    const stuck = setTimeout(() => server.process.kill('SIGKILL'), 10_000);
    expect(await exited).toEqual([0, null]);
    clearTimeout(stuck);
  }, 60_000);

  it('stops at start with a message that names a wrong variable', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'dist/src/main.js')], {
      cwd: ROOT,
      env: { ...embeddedEnv(dataDir), PORT: 'not-a-port' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toMatch(/Invalid configuration:\s+PORT:/);
  });
});

/** Debian's Chromium, driven by playwright-core; `.ci/run` installs it. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUTPUT_DIR = join(ROOT, 'test-output');

/** The text of GraphiQL's result pane once it matches `expected`. */
async function resultShowing(page: Page, expected: RegExp): Promise<string> {
  const pane = page.locator('.result-window');
  await pane.filter({ hasText: expected }).waitFor({ timeout: 15_000 });
  return (await pane.textContent()) ?? '';
}

/** Replaces the query editor's text as a person would, by selecting all and typing. */
async function typeQuery(page: Page, query: string): Promise<void> {
  await page.locator('.graphiql-query-editor .CodeMirror').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(query);
  // GraphiQL reads the operations of the document after a pause in typing.
  await page.waitForTimeout(500);
}

describe('GraphiQL in a real browser', () => {
  if (!existsSync(CHROMIUM)) {
    it.skip(`is skipped: Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium, as .ci/run does)`, () => undefined);
    return;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-graphiql-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('opens from npm start, runs a query with the demo token, and shows a balance subscription move after a debit', async () => {
    const started = await npmStart(dataDir);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(started.url);
      // The default query runs as the demo owner: the token is already in the headers.
      await page.locator('.graphiql-execute-button').click();
      const wallets = await resultShowing(page, /Demo Organization/);
      const walletId = /wal_[0-9A-Za-z]{22}/.exec(wallets)![0];

      await typeQuery(page, `subscription { walletBalanceChanged(walletId: "${walletId}") { balance change } }`);
      await page.locator('.graphiql-execute-button').click();
      await resultShowing(page, /"balance": "25",\s*"change": "0"/);

      // The printed demo key and gateway token move it.
      const { gatewayDebit } = await graphqlClient(started.baseUrl).data(DEBIT, { input: demoDebit(started.apiKey) }, started.gatewayToken);
      expect(gatewayDebit).toMatchObject({ allowed: true });
      const moved = new RegExp(`"balance": "${gatewayDebit.availableBalance.replace('.', '\\.')}",\\s*"change": "-${gatewayDebit.cost.replace('.', '\\.')}"`);
      await resultShowing(page, moved);

      mkdirSync(OUTPUT_DIR, { recursive: true });
      await page.screenshot({ path: join(OUTPUT_DIR, 'graphiql-subscription.png') });
    } finally {
      await browser.close();
      await stop(started);
    }
  }, 180_000);
});
