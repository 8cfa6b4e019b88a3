import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

/** Runs `npm start` and waits for the three lines it promises. */
function npmStart(dataDir: string): Promise<Started> {
  const child = spawn('npm', ['start'], { cwd: ROOT, env: embeddedEnv(dataDir), detached: true });
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

describe('npm start on a fresh machine (embedded PGlite)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-embedded-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('serves the demo organization with $25, and keeps data and tokens across a restart', async () => {
    const first = await npmStart(dataDir);
    try {
      expect(first.url).toMatch(/^http:\/\/localhost:\d+\/graphql$/);
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
