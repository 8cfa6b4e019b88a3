import { createHash } from 'node:crypto';
import type { Knex } from '@mikro-orm/knex';
import type { ClientBase, QueryResult } from 'pg';
import { withConnection } from '../db/pool';
import type { Sql, Statement } from '../db/sql';
import type { BatchDatabase, BatchTransaction } from './batch';

/**
 * A string as a dollar-quoted literal, with a tag that does not occur in it (also not across
 * its end): nothing inside is escaped, so no server setting reads it differently, and the
 * server scans it fastest (the gateway sends hundreds of kilobytes of rows this way).
 */
function quoted(text: string): string {
  for (let n = 0; ; n += 1) {
    const tag = n === 0 ? '$tg$' : `$tg${n}$`;
    const tail = text.slice(-tag.length);
    if (!text.includes(tag) && (tail + tag).indexOf(tag) === tail.length) return `${tag}${text}${tag}`;
  }
}

/**
 * A literal for one argument of an EXECUTE sent in a simple-protocol message. NUL cannot be
 * stored in PostgreSQL text and is refused.
 */
export function literal(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  const text = value instanceof Date ? value.toISOString() : typeof value === 'string' ? value : null;
  if (text === null) throw new TypeError(`cannot inline a ${typeof value} into SQL`);
  if (text.includes('\0')) throw new TypeError('text with a NUL character cannot be stored');
  return quoted(text);
}

/** `?` placeholders as `$1…$n`; the statements contain no other `?`. */
function numbered(statement: string): string {
  let next = 0;
  return statement.replace(/\?/g, () => `$${++next}`);
}

/**
 * One prepared statement per distinct text and way of preparing it (by node-postgres for the
 * extended protocol, or by PREPARE), named after both, so that the two never clash.
 */
const preparedNames = new Map<string, string>();

function prepared(how: 'protocol' | 'sql', statement: string, params: unknown[]): { name: string; text: string; values: unknown[] } {
  const id = `${how}:${statement}`;
  let name = preparedNames.get(id);
  if (!name) {
    name = `gateway_${how}_${createHash('sha256').update(statement).digest('hex').slice(0, 16)}`;
    preparedNames.set(id, name);
  }
  return { name, text: numbered(statement), values: params };
}

function rowsOf<T>(result: QueryResult | QueryResult[], index: number): T[] {
  return (Array.isArray(result) ? result[index] : result).rows as T[];
}

/**
 * The gateway's statements take their rows as arrays, whose lengths no plan can know:
 * PostgreSQL then never trusts a generic plan and plans every execution anew, which was more
 * than half of a lone debit's time in the database (read 0.81 → 0.33 ms, lock 0.73 → 0.34 ms,
 * write 0.98 → 0.75 ms). Planned once per connection, they keep their plan: every lookup in them
 * is by key, so no choice depends on the values. Only named prepared statements are concerned,
 * which are the gateway's alone (the ORM's unnamed ones are always planned for their values).
 */
const genericPlans = new WeakSet<ClientBase>();

function onGatewaySession<T>(knex: Knex, work: (client: ClientBase) => Promise<T>): Promise<T> {
  return withConnection(knex, async (client) => {
    if (!genericPlans.has(client)) {
      await client.query('set plan_cache_mode = force_generic_plan');
      genericPlans.add(client);
    }
    return work(client);
  });
}

/**
 * The gateway's database access on the shared pool, with the fewest round trips: the opening
 * BEGIN travels with the transaction's first statement and the COMMIT with its last, as one
 * simple-protocol message each. Every statement is prepared, so planned once per connection
 * (which is one session: see `ormConfig` for the embedded database).
 *
 * The engine's batches in flight (two) may be in their transactions at once: batches of other
 * wallets do not wait for each other at all, and one of the same wallet waits inside PostgreSQL
 * for the lock, its statement already there when the lock is free (measured against one
 * transaction at a time: 1,000 wallets +30–60%, hot wallet +15–70%). Every batch takes its
 * locks in one order (src/gateway/lock.ts), so they queue and never deadlock.
 */
export function batchDatabase(knex: Knex): BatchDatabase {
  return {
    query: <R>({ text, params }: Statement) =>
      onGatewaySession(knex, async (client) => (await client.query(prepared('protocol', text, [...params]))).rows as R[]),
    transaction: <T>(work: (tx: BatchTransaction) => Promise<T>) => onGatewaySession(knex, (client) => runTransaction(client, work)),
  };
}

/** The statements each connection has prepared with PREPARE (node-postgres tracks only its own). */
const preparedOn = new WeakMap<ClientBase, Set<string>>();

async function runTransaction<T>(client: ClientBase, work: (tx: BatchTransaction) => Promise<T>): Promise<T> {
  let ready = preparedOn.get(client);
  if (!ready) preparedOn.set(client, (ready = new Set()));
  let open = false;
  let committed = false;
  /**
   * One simple-protocol message: BEGIN when the transaction is not open yet, the EXECUTE of a
   * statement prepared (planned) once per connection, COMMIT when it is the last.
   */
  const send = async <R>(statement: string, params: readonly unknown[], commit: boolean): Promise<R[]> => {
    const { name, text } = prepared('sql', statement, []);
    if (!ready.has(name)) {
      await client.query(`prepare ${name} as ${text}`);
      ready.add(name);
    }
    const execute = `execute ${name}${params.length > 0 ? `(${params.map(literal).join(', ')})` : ''}`;
    const message = `${open ? '' : 'begin; '}${execute}${commit ? '; commit' : ''}`;
    const index = open ? 0 : 1;
    open = true;
    const result = await client.query(message);
    if (commit) committed = true;
    return rowsOf<R>(result, index);
  };
  const query: Sql = ({ text, params }) => send(text, params, false);
  const commitWith: Sql = ({ text, params }) => send(text, params, true);
  try {
    const result = await work({ query, commitWith });
    if (open && !committed) await client.query('commit');
    return result;
  } catch (error) {
    if (open && !committed) await client.query('rollback').catch(() => undefined);
    throw error;
  }
}
