/**
 * `npm run bench:gateway`: the gateway's throughput on this machine, each transport side by side.
 * Starts the built server on a fresh database of the local PostgreSQL, drives it from this
 * process, checks after every run that the ledger still proves every balance, prints a table
 * and the ratios the targets are stated in (see bench/README.md).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { createClient } from 'graphql-ws';
import { Client, Pool } from 'pg';
import WebSocket from 'ws';

const ROOT = join(__dirname, '..');
const SERVER_URL = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
const ADMIN = `bench-admin-${randomBytes(8).toString('hex')}`;
const GATEWAY = `bench-gateway-${randomBytes(8).toString('hex')}`;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 64;
const COLD_WALLETS = 1000;
/** `BENCH_RUNS=2,4` runs only those (the ratios need 1, 2, 4 and 5). */
const RUNS = new Set((process.env.BENCH_RUNS ?? '1,2,3,4,5,6').split(',').map((run) => run.trim()));

interface Figure {
  label: string;
  perSecond: number;
  p50: number;
  p99: number;
  /** Debits per request: 1, or the batch size. */
  unit: string;
}

const figures: Figure[] = [];
let requestSeq = 0;
const nextKey = () => `bench-${process.pid}-${requestSeq++}`;

async function main(): Promise<void> {
  const database = `tollgate_bench_${Date.now()}`;
  const admin = new Client({ connectionString: SERVER_URL.toString() });
  await admin.connect();
  await admin.query(`create database ${database}`);
  const url = new URL(SERVER_URL);
  url.pathname = `/${database}`;
  let server: ChildProcess | undefined;
  try {
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
    const started = await startServer(url.toString());
    server = started.child;
    await run(started.base, url.toString());
  } finally {
    server?.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 500));
    // BENCH_KEEP_DATABASE=1 leaves it for a look at its plans and tables afterwards.
    if (process.env.BENCH_KEEP_DATABASE) process.stdout.write(`database kept: ${database}\n`);
    else await admin.query(`drop database if exists ${database} with (force)`);
    await admin.end();
  }
}

function startServer(databaseUrl: string): Promise<{ child: ChildProcess; base: string }> {
  // The server runs with the node options of `npm start`; BENCH_SERVER_NODE_ARGS adds more, e.g.
  // `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it.
  const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.split(' ');
  const nodeArgs = [...start.slice(1, -1), ...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, start[start.length - 1])], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      TOLLGATE_ADMIN_TOKEN: ADMIN,
      TOLLGATE_GATEWAY_TOKENS: GATEWAY,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const found = /^GraphQL: (\S+)\/graphql$/m.exec(output);
      if (found) resolve({ child, base: found[1] });
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

async function gql<T = any>(base: string, token: string, query: string, variables: object = {}): Promise<T> {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data: T; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

interface Setup {
  hotKey: string;
  hotWalletId: string;
  coldKeys: string[];
  model: string;
}

async function seed(base: string): Promise<Setup> {
  const model = 'bench-model';
  await gql(base, ADMIN, `mutation { modelPriceSet(input: { model: "${model}", inputPricePerMillion: "1", outputPricePerMillion: "2" }) { userErrors { message } } }`);
  await gql(
    base,
    ADMIN,
    `mutation { modelPriceSet(input: { model: "${FULL_MODEL}", inputPricePerMillion: "3", outputPricePerMillion: "15", cachedInputPricePerMillion: "0.3",
       cacheWritePricePerMillion: "3.75", reasoningPricePerMillion: "15", pricePerRequest: "0.001", pricePerImage: "0.04" }) { userErrors { message } } }`,
  );
  const { organizationCreate } = await gql(
    base,
    ADMIN,
    `mutation { organizationCreate(input: { name: "Bench", ownerName: "Bench", ownerEmail: "bench@example.com" }) { organization { id } ownerToken } }`,
  );
  const owner = organizationCreate.ownerToken as string;
  const workspace = async (name: string) => {
    const { workspaceCreate } = await gql(base, owner, `mutation ($name: String!) { workspaceCreate(input: { name: $name }) { workspace { id wallet { id } } } }`, { name });
    const { id, wallet } = workspaceCreate.workspace;
    await gql(base, ADMIN, `mutation ($w: ID!, $k: String!) { walletAdjust(input: { walletId: $w, amount: "1000000", description: "bench", idempotencyKey: $k }) { userErrors { message } } }`, {
      w: wallet.id,
      k: nextKey(),
    });
    const { apiKeyCreate } = await gql(base, owner, `mutation ($w: ID!) { apiKeyCreate(input: { workspaceId: $w, name: "bench" }) { secret } }`, { w: id });
    return { walletId: wallet.id as string, secret: apiKeyCreate.secret as string };
  };
  const hot = await workspace('hot');
  const coldKeys: string[] = [];
  for (let i = 0; i < COLD_WALLETS; i += 8) {
    const made = await Promise.all(Array.from({ length: Math.min(8, COLD_WALLETS - i) }, (_, j) => workspace(`cold ${i + j}`)));
    coldKeys.push(...made.map((w) => w.secret));
  }
  return { hotKey: hot.secret, hotWalletId: hot.walletId, coldKeys, model };
}

const DEBIT = 'mutation ($input: GatewayDebitInput!) { gatewayDebit(input: $input) { allowed denial { code } } }';
const BATCH = 'mutation ($input: GatewayDebitBatchInput!) { gatewayDebitBatch(input: $input) { results { allowed } } }';
const NOOP = 'mutation { __typename }';

function debitInput(apiKey: string, model: string) {
  return { apiKey, model, idempotencyKey: nextKey(), inputTokens: 1000, outputTokens: 200 };
}

/** A model with every price component, and a call that uses them all, routed by the router. */
const FULL_MODEL = 'bench-model-full';
function fullDebitInput(apiKey: string) {
  return { ...debitInput(apiKey, FULL_MODEL), routingMode: 'AUTO', cachedInputTokens: 4000, cacheWriteTokens: 800, reasoningTokens: 100, images: 1 };
}

/** Closed-loop HTTP load on /graphql (Apollo) with keep-alive connections. */
async function httpLoad(label: string, base: string, body: () => object, unit = 1): Promise<void> {
  process.stdout.write(`running ${label}…\n`);
  const result = await autocannon({
    url: `${base}/graphql`,
    connections: CONNECTIONS,
    duration: SECONDS,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${GATEWAY}` },
    requests: [{ setupRequest: (request) => ({ ...request, body: JSON.stringify(body()) }) }],
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${label}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  figures.push({ label, perSecond: result.requests.average * unit, p50: result.latency.p50, p99: result.latency.p99, unit: unit === 1 ? '' : `×${unit}` });
}

/** Closed-loop load over graphql-ws: one long-lived WebSocket per connection, as a gateway would hold. */
async function wsLoad(label: string, base: string, connections: number, payload: () => { query: string; variables?: Record<string, unknown> }, unit = 1): Promise<void> {
  process.stdout.write(`running ${label}…\n`);
  const clients = Array.from({ length: connections }, () =>
    createClient({ url: `${base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${GATEWAY}` }, lazy: false, retryAttempts: 0 }),
  );
  const latencies: number[] = [];
  const deadline = performance.now() + SECONDS * 1000;
  await Promise.all(
    clients.map(async (client) => {
      while (performance.now() < deadline) {
        const started = performance.now();
        await new Promise<void>((resolve, reject) =>
          client.subscribe(payload(), {
            next: (result) => {
              if (result.errors) reject(new Error(JSON.stringify(result.errors)));
            },
            error: reject,
            complete: resolve,
          }),
        );
        latencies.push(performance.now() - started);
      }
    }),
  );
  await Promise.all(clients.map((client) => client.dispose()));
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  figures.push({ label, perSecond: (latencies.length * unit) / SECONDS, p50: at(0.5), p99: at(0.99), unit: unit === 1 ? '' : `×${unit}` });
}

/** The naive design: one database transaction per debit on the hot row, 64 connections. */
async function rawSqlLoad(label: string, databaseUrl: string, walletId: string): Promise<void> {
  process.stdout.write(`running ${label}…\n`);
  const pool = new Pool({ connectionString: databaseUrl, max: CONNECTIONS });
  const [{ organization_id: organizationId }] = (await pool.query('select organization_id from wallets where id = $1', [walletId])).rows;
  const latencies: number[] = [];
  const deadline = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      const client = await pool.connect();
      try {
        while (performance.now() < deadline) {
          const started = performance.now();
          await client.query('begin');
          const { rows } = await client.query('update wallets set balance = balance - 1 where id = $1 and balance >= 1 returning balance', [walletId]);
          await client.query(
            `insert into transactions (id, wallet_id, organization_id, type, amount, balance_after, description, actor)
             values ($1, $2, $3, 'DEDUCTION', -1, $4, 'raw bench', 'bench')`,
            [`txn_${randomBytes(11).toString('hex').slice(0, 22)}`, walletId, organizationId, rows[0].balance],
          );
          await client.query('commit');
          latencies.push(performance.now() - started);
        }
      } finally {
        client.release();
      }
    }),
  );
  await pool.end();
  latencies.sort((a, b) => a - b);
  figures.push({ label, perSecond: latencies.length / SECONDS, p50: latencies[Math.floor(latencies.length / 2)], p99: latencies[Math.floor(latencies.length * 0.99)], unit: '' });
}

/** After every run: each wallet's balance is still the sum of its ledger. */
async function checkLedger(databaseUrl: string, after: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const { rows } = await client.query(
    `select count(*)::int as broken from wallets w
      where w.balance <> coalesce((select sum(amount) from transactions t where t.wallet_id = w.id), 0)`,
  );
  await client.end();
  if (rows[0].broken > 0) throw new Error(`after ${after}: ${rows[0].broken} wallets whose balance is not their ledger sum`);
  process.stdout.write(`  ledger checked after ${after}: every balance equals its ledger sum\n`);
}

async function run(base: string, databaseUrl: string): Promise<void> {
  process.stdout.write(`seeding 1 hot and ${COLD_WALLETS} cold wallets…\n`);
  const setup = await seed(base);
  const hot = () => debitInput(setup.hotKey, setup.model);
  const cold = () => debitInput(setup.coldKeys[Math.floor(Math.random() * setup.coldKeys.length)], setup.model);
  const batch = () => Array.from({ length: 500 }, hot);

  if (RUNS.has('1')) {
    await httpLoad('1. no-op mutation, /graphql (Apollo, HTTP)', base, () => ({ query: NOOP }));
    await wsLoad('1. no-op mutation, graphql-ws', base, CONNECTIONS, () => ({ query: NOOP }));
  }
  if (RUNS.has('2')) {
    await httpLoad('2. gatewayDebit, hot wallet, /graphql (HTTP)', base, () => ({ query: DEBIT, variables: { input: hot() } }));
    await checkLedger(databaseUrl, '2 (HTTP)');
    await wsLoad('2. gatewayDebit, hot wallet, graphql-ws', base, CONNECTIONS, () => ({ query: DEBIT, variables: { input: hot() } }));
    await checkLedger(databaseUrl, '2 (graphql-ws)');
  }
  if (RUNS.has('3')) {
    await wsLoad(`3. gatewayDebit, ${COLD_WALLETS} wallets, graphql-ws`, base, CONNECTIONS, () => ({ query: DEBIT, variables: { input: cold() } }));
    await checkLedger(databaseUrl, '3');
  }
  if (RUNS.has('4')) {
    await wsLoad('4. gatewayDebitBatch of 500, hot wallet, graphql-ws (8 connections)', base, 8, () => ({ query: BATCH, variables: { input: { debits: batch() } } }), 500);
    await checkLedger(databaseUrl, '4');
  }
  if (RUNS.has('5')) {
    await rawSqlLoad('5. raw SQL, one transaction per debit, hot row', databaseUrl, setup.hotWalletId);
    await checkLedger(databaseUrl, '5');
  }
  if (RUNS.has('6')) {
    await wsLoad('6. gatewayDebit, every price component, routed, hot wallet, graphql-ws', base, CONNECTIONS, () => ({
      query: DEBIT,
      variables: { input: fullDebitInput(setup.hotKey) },
    }));
    await checkLedger(databaseUrl, '6');
  }

  process.stdout.write(`\n${new Date().toISOString()} · ${SECONDS} s per run · ${CONNECTIONS} connections unless stated\n\n`);
  process.stdout.write('| run | per second | p50 ms | p99 ms |\n|---|---:|---:|---:|\n');
  for (const figure of figures) {
    process.stdout.write(`| ${figure.label} | ${Math.round(figure.perSecond).toLocaleString('en')}${figure.unit ? ' debits' : ''} | ${figure.p50.toFixed(1)} | ${figure.p99.toFixed(1)} |\n`);
  }
  const find = (prefix: string) => figures.find((figure) => figure.label.startsWith(prefix));
  const fastHot = find('2. gatewayDebit, hot wallet, graphql-ws');
  const httpHot = find('2. gatewayDebit, hot wallet, /graphql');
  const httpNoop = find('1. no-op mutation, /graphql');
  const raw = find('5.');
  const batched = find('4.');
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const ratios: string[] = [];
  if (fastHot && raw) {
    const met = fastHot.perSecond >= 2 * raw.perSecond && fastHot.p99 <= 25;
    ratios.push(`fast transport, hot wallet vs raw SQL: ${(fastHot.perSecond / raw.perSecond).toFixed(2)}× (target ≥ 2×, p99 ${fastHot.p99.toFixed(1)} ms ≤ 25 ms): ${verdict(met)}`);
  }
  if (httpHot && httpNoop) {
    const share = (100 * httpHot.perSecond) / httpNoop.perSecond;
    ratios.push(`/graphql, hot wallet vs its own no-op: ${share.toFixed(0)}% (target ≥ 80%): ${verdict(share >= 80)}`);
  }
  if (batched) ratios.push(`batch of 500: ${Math.round(batched.perSecond).toLocaleString('en')} debits/s (target ≥ 30,000): ${verdict(batched.perSecond >= 30_000)}`);
  process.stdout.write(`\nratios:\n${ratios.map((line) => `- ${line}\n`).join('')}`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
