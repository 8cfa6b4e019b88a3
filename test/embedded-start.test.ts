import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { ADMIN_TOKEN, GATEWAY_TOKEN, graphqlClient } from './support/app';
import { createApiKey, debit, setModelPrice } from './support/gateway';
import { spawnServer } from './support/process';

const ROOT = join(__dirname, '..');
const ACCEPTANCE_QUERY = `{ viewer { organization { name workspaces { name wallet { balance
  transactions(first: 10) { edges { node { type amount } } } } } } } }`;

/** The environment of a fresh machine: no DATABASE_URL, so the embedded database is used. */
function embeddedEnv(dataDir: string): NodeJS.ProcessEnv {
  const { DATABASE_URL: _unused, TOLLGATE_ADMIN_TOKEN: _alsoUnused, ...env } = process.env;
  return { ...env, PORT: '0', TOLLGATE_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
}

interface Started {
  child: ChildProcessWithoutNullStreams;
  url: string;
  ownerToken: string;
  adminToken: string;
}

/** Runs `npm start` (with `extraEnv`) and waits for the three lines it promises. */
function npmStart(dataDir: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<Started> {
  const child = spawn('npm', ['start'], { cwd: ROOT, env: { ...embeddedEnv(dataDir), ...extraEnv }, detached: true });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start printed no URL in time:\n${output}`)), 90_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /^GraphQL: (\S+)$/m.exec(output)?.[1];
      const ownerToken = /^Demo owner token: (\S+)$/m.exec(output)?.[1];
      const adminToken = /^Admin token: (\S+)$/m.exec(output)?.[1];
      if (url && ownerToken && adminToken) {
        clearTimeout(timer);
        resolve({ child, url, ownerToken, adminToken });
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}:\n${output}`));
    });
  });
}

function stop(child: ChildProcessWithoutNullStreams): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', () => resolve());
    process.kill(-child.pid!, 'SIGTERM');
  });
}

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
  const dataDirs: string[] = [];
  const freshDataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-embedded-'));
    dataDirs.push(dir);
    return dir;
  };
  const dataDir = freshDataDir();
  afterAll(() => dataDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('serves the demo organization with $25, and keeps data and tokens across a restart', async () => {
    const first = await npmStart(dataDir);
    try {
      expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
      const answer = await query(first.url, first.ownerToken, ACCEPTANCE_QUERY);
      expect(answer).toEqual({
        data: {
          viewer: {
            organization: {
              name: 'Demo Organization',
              workspaces: [
                { name: 'Default', wallet: { balance: '25', transactions: { edges: [{ node: { type: 'MANUAL', amount: '25' } }] } } },
              ],
            },
          },
        },
      });
      const admin = await query(first.url, first.adminToken, '{ viewer { kind } }');
      expect(admin).toEqual({ data: { viewer: { kind: 'PLATFORM_ADMIN' } } });
    } finally {
      await stop(first.child);
    }

    const second = await npmStart(dataDir);
    try {
      expect(second.ownerToken).toBe(first.ownerToken);
      expect(second.adminToken).toBe(first.adminToken);
      const again = await query(second.url, second.ownerToken, ACCEPTANCE_QUERY);
      expect(again.data.viewer.organization.workspaces[0].wallet).toEqual({
        balance: '25',
        transactions: { edges: [{ node: { type: 'MANUAL', amount: '25' } }] },
      });
    } finally {
      await stop(second.child);
    }
  }, 180_000);

  it('listens on 127.0.0.1 only', async () => {
    const started = await npmStart(freshDataDir());
    try {
      const { port } = new URL(started.url);
      const listening = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' });
      expect(listening.trim().split('\n').map((line) => line.trim().split(/\s+/)[3])).toEqual([`127.0.0.1:${port}`]);
      if (OUTSIDE_ADDRESS) await expect(connectTo(OUTSIDE_ADDRESS, Number(port))).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      await stop(started.child);
    }
  }, 120_000);

  (OUTSIDE_ADDRESS ? it : it.skip)('pre-fills the demo token in GraphiQL for a browser on this machine only, whatever HOST is', async () => {
    const started = await npmStart(freshDataDir(), { HOST: '0.0.0.0' });
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
      await stop(started.child);
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
    const started = await npmStart(dataDir, { TOLLGATE_ADMIN_TOKEN: ADMIN_TOKEN, TOLLGATE_GATEWAY_TOKENS: GATEWAY_TOKEN });
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

      const client = graphqlClient(new URL(started.url).origin);
      const { data } = await client.gql('{ viewer { organization { workspaces { id } } } }', {}, started.ownerToken);
      const model = 'demo-model';
      await setModelPrice(client, model);
      const key = await createApiKey(client, started.ownerToken, data.viewer.organization.workspaces[0].id);
      const answer = await debit(client, { secret: key.secret, model });
      expect(answer).toMatchObject({ allowed: true, availableBalance: '24.9989' });
      await resultShowing(page, /"balance": "24.9989",\s*"change": "-0.0011"/);

      mkdirSync(OUTPUT_DIR, { recursive: true });
      await page.screenshot({ path: join(OUTPUT_DIR, 'graphiql-subscription.png') });
    } finally {
      await browser.close();
      await stop(started.child);
    }
  }, 180_000);
});
