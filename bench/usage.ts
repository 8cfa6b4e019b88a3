/**
 * `npm run bench:usage`: a 30-day usage report by day and model over 1 million gateway debits.
 * Fresh database of the local PostgreSQL; the ledger rows are seeded before the rollup's
 * migration, so that its backfill builds the rollup as it would on an existing installation.
 * Prints the report's latency through GraphQL beside a plain GROUP BY over the ledger.
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { ormConfig } from '../mikro-orm.config';
import { createLogger } from '../src/logger';
import { startApp } from '../src/app';

const SERVER_URL = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const ROLLUP_MIGRATION = 'Migration20261124000000_usage_rollup';
const ADMIN = 'bench-admin-token';
const MODELS = ['model-a', 'model-b', 'model-c', 'model-d', 'model-e'];
const START = new Date('2026-10-01T00:00:00Z');
const DAYS = 30;
const REPEATS = 7;

async function graphql(base: string, token: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** Median and worst of `REPEATS` timed runs, after one warm-up. */
async function timed(work: () => Promise<unknown>): Promise<{ median: number; worst: number }> {
  await work();
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i += 1) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], worst: times[times.length - 1] };
}

async function main(): Promise<void> {
  const database = `tollgate_bench_usage_${Date.now()}`;
  const admin = new Client({ connectionString: SERVER_URL.toString() });
  await admin.connect();
  await admin.query(`create database ${database}`);
  const url = new URL(SERVER_URL);
  url.pathname = `/${database}`;
  const orm = await MikroORM.init(ormConfig(url.toString(), 10));
  try {
    const migrator = orm.getMigrator();
    const pending = (await migrator.getPendingMigrations()).map((migration) => migration.name);
    await migrator.up({ to: pending[pending.indexOf(ROLLUP_MIGRATION) - 1] });
    const server = await startApp({ em: orm.em, logger: createLogger('warn'), auth: { adminTokens: [ADMIN], gatewayTokens: [] }, port: 0, host: '127.0.0.1' });
    try {
      const { organizationCreate } = await graphql(
        server.url,
        ADMIN,
        'mutation { organizationCreate(input: { name: "Bench", ownerName: "B", ownerEmail: "b@example.com" }) { organization { id } ownerToken } }',
      );
      const owner = organizationCreate.ownerToken as string;
      const { workspaceCreate } = await graphql(server.url, owner, 'mutation { workspaceCreate(input: { name: "Main" }) { workspace { id wallet { id } } } }');
      const workspaceId = workspaceCreate.workspace.id as string;
      const keys: string[] = [];
      for (let i = 0; i < 5; i += 1) {
        const { apiKeyCreate } = await graphql(server.url, owner, `mutation { apiKeyCreate(input: { workspaceId: "${workspaceId}", name: "k${i}" }) { apiKey { id } } }`);
        keys.push(apiKeyCreate.apiKey.id);
      }

      process.stdout.write(`seeding ${ROWS.toLocaleString('en-US')} DEDUCTION rows over ${DAYS} days…\n`);
      await orm.em.fork().execute(
        `insert into transactions (id, wallet_id, organization_id, type, amount, balance_after, description, actor, api_key_id,
                                   model, input_tokens, output_tokens, created_at)
         select 'txn_' || lpad(g::text, 22, '0'), ?, ?, 'DEDUCTION', -(1000 + g % 5000), 0, 'bench', 'gateway',
                (?::text[])[1 + g % 5], (?::text[])[1 + (g / 7) % 5], 100 + g % 900, g % 300,
                ?::timestamptz + (g::double precision / ? * ? * interval '1 day')
           from generate_series(1, ?) as g`,
        [
          workspaceCreate.workspace.wallet.id,
          organizationCreate.organization.id,
          `{${keys.join(',')}}`,
          `{${MODELS.join(',')}}`,
          START,
          ROWS,
          DAYS,
          ROWS,
        ],
      );
      let started = performance.now();
      await migrator.up();
      const backfill = performance.now() - started;
      await orm.em.fork().execute('analyze');

      const from = START.toISOString();
      const to = new Date(START.getTime() + DAYS * 86_400_000).toISOString();
      const query = `{ usage(filter: { from: "${from}", to: "${to}" }, groupBy: [DAY, MODEL]) { rows { day model cost requests } total { cost requests } } }`;
      let groups = 0;
      const report = await timed(async () => {
        groups = (await graphql(server.url, owner, query)).usage.rows.length;
      });
      // Bounds inside hours: the partial hours come from the ledger.
      const cut = `{ usage(filter: { from: "${new Date(START.getTime() + 1_800_000).toISOString()}", to: "${new Date(START.getTime() + DAYS * 86_400_000 - 1_800_000).toISOString()}" }, groupBy: [DAY, MODEL]) { total { cost } } }`;
      const cutReport = await timed(() => graphql(server.url, owner, cut));
      const scan = await timed(() =>
        orm.em.fork().execute(
          `select date_trunc('day', created_at, 'UTC'), model, -sum(amount), count(*) from transactions
            where type = 'DEDUCTION' and created_at >= ? and created_at < ? group by 1, 2`,
          [from, to],
        ),
      );
      const [{ rollup }] = await orm.em.fork().execute<Array<{ rollup: string }>>('select count(*)::text as rollup from usage_hourly');

      started = performance.now();
      const line = (label: string, figure: { median: number; worst: number }) =>
        `| ${label} | ${figure.median.toFixed(1)} | ${figure.worst.toFixed(1)} |\n`;
      process.stdout.write(
        `\n${new Date().toISOString()} · ${ROWS.toLocaleString('en-US')} DEDUCTION rows, ${rollup} rollup rows (backfill ${(backfill / 1000).toFixed(1)} s)\n\n` +
          '| 30 days by day and model | median ms | worst ms |\n|---|---:|---:|\n' +
          line(`usage(groupBy: [DAY, MODEL]) over GraphQL, ${groups} groups`, report) +
          line('the same with bounds inside hours', cutReport) +
          line('plain GROUP BY over the ledger (for comparison)', scan) +
          `\nratio: the ledger scan takes ${(scan.median / report.median).toFixed(1)}× the report\n`,
      );
    } finally {
      await server.close();
    }
  } finally {
    await orm.close(true);
    if (process.env.BENCH_KEEP_DATABASE) process.stdout.write(`database kept: ${database}\n`);
    else await admin.query(`drop database if exists ${database} with (force)`);
    await admin.end();
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
