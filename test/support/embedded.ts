import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { eventually } from './fixtures';

export const ROOT = join(__dirname, '..', '..');

/** The environment of a fresh machine: no DATABASE_URL, so the embedded database is used. */
export function embeddedEnv(dataDir: string): NodeJS.ProcessEnv {
  const { DATABASE_URL: _unused, TOLLGATE_ADMIN_TOKEN: _alsoUnused, TOLLGATE_GATEWAY_TOKENS: _neither, ...env } = process.env;
  return { ...env, PORT: '0', TOLLGATE_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
}

export interface EmbeddedServer {
  child: ChildProcessWithoutNullStreams;
  /** The GraphQL endpoint as printed, e.g. http://localhost:4123/graphql */
  url: string;
  /** The server's origin, e.g. http://localhost:4123 */
  baseUrl: string;
  ownerToken: string;
  adminToken: string;
  gatewayToken: string;
  apiKey: string;
  /** The printed example debit. */
  curl: string;
  /** Everything it printed so far. */
  output(): string;
}

const PRINTED = {
  url: /^GraphQL: (\S+)$/m,
  ownerToken: /^Demo owner token: (\S+)$/m,
  adminToken: /^Admin token: (\S+)$/m,
  gatewayToken: /^Demo gateway token: (\S+)$/m,
  apiKey: /^Demo API key: (tg_\S+)$/m,
  curl: /^(curl .+)$/m,
};

/** Runs the README's `npm start` (with `extraEnv`) and waits for what it prints. */
export function npmStart(dataDir: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<EmbeddedServer> {
  return printed(spawn('npm', ['start'], { cwd: ROOT, env: { ...embeddedEnv(dataDir), ...extraEnv }, detached: true }), 'npm start');
}

/**
 * Starts the server that `npm start` built (dist/) without building it again, as `npm start`
 * runs it, and waits for what it prints: for a restart, once `npm start` itself was seen to work.
 */
export function startBuilt(dataDir: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<EmbeddedServer> {
  const main = join(ROOT, 'dist/src/main.js');
  return printed(spawn(process.execPath, [main], { cwd: ROOT, env: { ...embeddedEnv(dataDir), ...extraEnv }, detached: true }), 'the built server');
}

function printed(child: ChildProcessWithoutNullStreams, what: string): Promise<EmbeddedServer> {
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} printed no URL in time:\n${output}`)), 120_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const found = Object.fromEntries(Object.entries(PRINTED).map(([name, pattern]) => [name, pattern.exec(output)?.[1]]));
      if (Object.values(found).every(Boolean)) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve({ ...(found as Record<keyof typeof PRINTED, string>), child, baseUrl: new URL(found.url!).origin, output: () => output });
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}:\n${output}`));
    });
  });
}

/** SIGTERM to the server (and npm above it); resolves once both have exited (at once if they have). */
export async function stop(server: Pick<EmbeddedServer, 'child'>): Promise<void> {
  const group = -server.child.pid!;
  const alive = () => {
    try {
      process.kill(group, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(group, 'SIGTERM');
  await eventually(async () => !alive(), 30_000);
}

/**
 * Opens the embedded database of a stopped server and lists what disagrees with the ledger:
 * wallets whose balance is not the sum of their rows, or whose held amount is not the sum of
 * their active holds, usage rollups that differ from the ledger's charges, and rows that found no
 * partition of their month.
 */
export async function ledgerDisagreements(dataDir: string): Promise<unknown[]> {
  const db = await PGlite.create(join(dataDir, 'pgdata'));
  try {
    const { rows } = await db.query(`
      select 'balance' as what, w.id, w.balance::text as stored, coalesce(t.sum, 0)::text as derived
        from wallets w left join (select wallet_id, sum(amount) as sum from transactions group by wallet_id) t on t.wallet_id = w.id
       where w.balance <> coalesce(t.sum, 0)
      union all
      select 'held', w.id, w.held::text, coalesce(h.sum, 0)::text
        from wallets w left join (select wallet_id, sum(amount) as sum from holds where status = 'ACTIVE' group by wallet_id) h on h.wallet_id = w.id
       where w.held <> coalesce(h.sum, 0)
      union all
      select 'usage', u.wallet_id, u.cost::text, coalesce(d.cost, 0)::text
        from (select wallet_id, sum(cost) as cost from usage_hourly group by wallet_id) u
        left join (select wallet_id, -sum(amount) as cost from transactions where type = 'DEDUCTION' group by wallet_id) d on d.wallet_id = u.wallet_id
       where u.cost <> coalesce(d.cost, 0)
      union all
      -- Every row has its month's partition: the demo's history too (the default is a safety net).
      select 'unpartitioned', wallet_id, count(*)::text, '0' from transactions_default group by wallet_id`);
    return rows;
  } finally {
    await db.close();
  }
}
