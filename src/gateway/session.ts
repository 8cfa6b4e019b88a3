import { createHash } from 'node:crypto';
import type { Knex } from '@mikro-orm/knex';
import type { ClientBase, QueryResult } from 'pg';
import type { BatchDatabase, BatchTransaction, Sql } from './batch';

/**
 * A string as a dollar-quoted literal, with a tag that does not occur in it (also not across
 * its end): nothing inside is escaped, so no server setting reads it differently, and the
 * server scans it fastest (the gateway sends hundreds of kilobytes of rows this way).
 */
function quoted(text: string): string {
  for (let n = 0; ; n += 1) {
    const tag = n === 0 ? '$tg$' : `$tg${n}$`;
    if ((text + tag).indexOf(tag) === text.length) return `${tag}${text}${tag}`;
  }
}

/**
 * A literal for one parameter of a statement that is sent with its values inlined. NUL cannot
 * be stored in PostgreSQL text and is refused.
 */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  const text = value instanceof Date ? value.toISOString() : typeof value === 'string' ? value : null;
  if (text === null) throw new TypeError(`cannot inline a ${typeof value} into SQL`);
  if (text.includes('\0')) throw new TypeError('text with a NUL character cannot be stored');
  return quoted(text);
}

/** Replaces each `?` with its value as a literal; the statements contain no other `?`. */
export function inline(statement: string, params: unknown[]): string {
  let next = 0;
  const text = statement.replace(/\?/g, () => {
    if (next >= params.length) throw new Error('more placeholders than parameters');
    return literal(params[next++]);
  });
  if (next !== params.length) throw new Error('more parameters than placeholders');
  return text;
}

/** `?` placeholders as `$1…$n`; the statements contain no other `?`. */
function numbered(statement: string): string {
  let next = 0;
  return statement.replace(/\?/g, () => `$${++next}`);
}

/** One prepared statement per distinct text, named after it; node-postgres prepares it once per connection. */
const preparedNames = new Map<string, string>();

function prepared(statement: string, params: unknown[]): { name: string; text: string; values: unknown[] } {
  let name = preparedNames.get(statement);
  if (!name) {
    name = `gateway_${createHash('sha256').update(statement).digest('hex').slice(0, 16)}`;
    preparedNames.set(statement, name);
  }
  return { name, text: numbered(statement), values: params };
}

function rowsOf<T>(result: QueryResult | QueryResult[], index: number): T[] {
  return (Array.isArray(result) ? result[index] : result).rows as T[];
}

/**
 * The gateway's database access on the shared pool, with the fewest round trips: the opening
 * BEGIN travels with the transaction's first statement and the COMMIT with its last, as one
 * simple-protocol message each. Statements outside the transaction are prepared statements,
 * planned once per connection.
 *
 * One process runs one batch transaction at a time: the next batch reads while the current one
 * commits, then takes its turn, instead of waiting for the same row locks inside PostgreSQL.
 */
export function batchDatabase(knex: Knex): BatchDatabase {
  let turn: Promise<unknown> = Promise.resolve();
  return {
    query: async <R>(statement: string, params: unknown[]) => {
      const client = (await knex.client.acquireConnection()) as ClientBase;
      try {
        return (await client.query(prepared(statement, params))).rows as R[];
      } finally {
        await knex.client.releaseConnection(client);
      }
    },
    transaction<T>(work: (tx: BatchTransaction) => Promise<T>) {
      const run = turn.then(() => runTransaction(knex, work));
      turn = run.catch(() => undefined);
      return run;
    },
  };
}

async function runTransaction<T>(knex: Knex, work: (tx: BatchTransaction) => Promise<T>): Promise<T> {
  const client = (await knex.client.acquireConnection()) as ClientBase;
  let open = false;
  let committed = false;
  const query: Sql = async <R>(statement: string, params: unknown[]) => {
    if (open) return rowsOf<R>(await client.query(inline(statement, params)), 0);
    open = true;
    return rowsOf<R>(await client.query(`begin; ${inline(statement, params)}`), 1);
  };
  const commitWith: Sql = async <R>(statement: string, params: unknown[]) => {
    const text = inline(statement, params);
    const result = await client.query(open ? `${text}; commit` : `begin; ${text}; commit`);
    committed = true;
    return rowsOf<R>(result, open ? 0 : 1);
  };
  try {
    const result = await work({ query, commitWith });
    if (open && !committed) await client.query('commit');
    return result;
  } catch (error) {
    if (open && !committed) await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    await knex.client.releaseConnection(client);
  }
}
