import type { EntityName, FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { textArray } from './recordset';
import { MalformedInputError } from '../errors';

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface Page<T> {
  nodes: T[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

interface Keyed {
  id: string;
  createdAt: Date;
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** Opaque cursor: the (created_at, id) of a row, exact to the stored millisecond. */
export function encodeCursor(row: Keyed): string {
  return Buffer.from(`${row.createdAt.getTime()}:${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string, argument: string): Keyed {
  const match = /^(\d{1,15}):([A-Za-z0-9_]{1,64})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw new MalformedInputError(`${argument}: not a cursor from this connection`);
  return { createdAt: new Date(Number(match[1])), id: match[2] };
}

/** Opaque cursor of a row keyed by one text column alone (the model price catalog, by model id). */
export function encodeTextCursor(key: string): string {
  return Buffer.from(`k:${key}`).toString('base64url');
}

function decodeTextCursor(cursor: string, argument: string): string {
  const text = Buffer.from(cursor, 'base64url').toString();
  if (!text.startsWith('k:')) throw new MalformedInputError(`${argument}: not a cursor from this connection`);
  return text.slice(2);
}

function pageSize(value: number | null | undefined, argument: string): number | null {
  if (value == null) return null;
  if (!Number.isInteger(value) || value < 0 || value > MAX_PAGE_SIZE) {
    throw new MalformedInputError(`${argument} must be between 0 and ${MAX_PAGE_SIZE}`);
  }
  return value;
}

/** What page arguments ask for, checked: its size, its direction, and the cursors it starts from. */
export interface PageWindow<K = Keyed> {
  limit: number;
  backwards: boolean;
  after: K | null;
  before: K | null;
}

export function pageWindow(args: PageArgs): PageWindow;
export function pageWindow<K>(args: PageArgs, decode: (cursor: string, argument: string) => K): PageWindow<K>;
export function pageWindow(args: PageArgs, decode: (cursor: string, argument: string) => unknown = decodeCursor): PageWindow<unknown> {
  const first = pageSize(args.first, 'first');
  const last = pageSize(args.last, 'last');
  if (first !== null && last !== null) throw new MalformedInputError('Pass either first or last, not both');
  const backwards = last !== null;
  return {
    limit: (backwards ? last : first) ?? DEFAULT_PAGE_SIZE,
    backwards,
    after: args.after ? decode(args.after, 'after') : null,
    before: args.before ? decode(args.before, 'before') : null,
  };
}

/** The page made of up to `limit + 1` rows read in the window's direction. */
export function pageOf<T>(rows: T[], window: PageWindow<unknown>): Page<T> {
  const hasMore = rows.length > window.limit;
  const nodes = rows.slice(0, window.limit);
  if (window.backwards) nodes.reverse();
  return {
    nodes,
    hasNextPage: window.backwards ? window.before !== null : hasMore,
    hasPreviousPage: window.backwards ? hasMore : window.after !== null,
  };
}

/** Extra conditions of a page read, as SQL over the table's columns with `?` parameters. */
export interface SqlConditions {
  sql: string[];
  params: unknown[];
}

/**
 * One page of each of many parents' children (a workspace's keys, a wallet's ledger), by keyset
 * on (created_at, id), newest first unless `order` says oldest first (lists that read best in
 * the order they were made, such as an organization's workspaces): `first`/`after` walk along
 * the order, `last`/`before` against it, and the cost does not grow with the offset. Two statements whatever the
 * number of parents: the ids of each parent's page by one lateral query on the (parent,
 * created_at, id) index, then the rows. `table` and `parentColumn` are names from our code,
 * never input.
 */
export async function keysetPagesByParent<T extends Keyed>(
  em: EntityManager,
  entity: EntityName<T>,
  table: string,
  parentColumn: string,
  parentIds: string[],
  args: PageArgs,
  extra: SqlConditions = { sql: [], params: [] },
  order: 'newest' | 'oldest' = 'newest',
): Promise<Array<Page<T>>> {
  const window = pageWindow(args);
  const descending = (order === 'newest') !== window.backwards;
  const direction = descending ? 'desc' : 'asc';
  const conditions = [...extra.sql];
  const params: unknown[] = [...extra.params];
  for (const [key, op] of [
    [window.after, order === 'newest' ? '<' : '>'],
    [window.before, order === 'newest' ? '>' : '<'],
  ] as const) {
    if (!key) continue;
    conditions.push(`(created_at, id) ${op} (?::timestamptz, ?)`);
    params.push(key.createdAt, key.id);
  }
  const rows = await em.execute<Array<{ parent_id: string; id: string }>>(
    `select p.parent_id, c.id
       from unnest(?::text[]) with ordinality as p (parent_id, position)
      cross join lateral (
        select id, created_at from ${table}
         where ${parentColumn} = p.parent_id${conditions.map((condition) => ` and ${condition}`).join('')}
         order by created_at ${direction}, id ${direction}
         limit ?) as c
      order by p.position, c.created_at ${direction}, c.id ${direction}`,
    [textArray(parentIds), ...params, window.limit + 1],
  );
  const loaded = rows.length > 0 ? await em.find(entity, { id: { $in: rows.map((row) => row.id) } } as unknown as FilterQuery<T>) : [];
  const byId = new Map(loaded.map((row) => [row.id, row]));
  const perParent = new Map<string, T[]>(parentIds.map((id) => [id, []]));
  for (const row of rows) perParent.get(row.parent_id)!.push(byId.get(row.id)!);
  return parentIds.map((id) => pageOf(perParent.get(id)!, window));
}

/**
 * One page of a whole table ordered by one unique text column, ascending by code point
 * (`first`/`after` walk up, `last`/`before` down), by keyset on that column: a catalog read by
 * its natural key. `table` and `keyColumn` are names from our code, never input, and the column
 * is the entity's property of the same name; `where` narrows the rows.
 */
export async function keysetPageByText<T extends object>(
  em: EntityManager,
  entity: EntityName<T>,
  table: string,
  keyColumn: string,
  keyOf: (row: T) => string,
  args: PageArgs,
  where: SqlConditions = { sql: [], params: [] },
): Promise<Page<T>> {
  const window = pageWindow(args, decodeTextCursor);
  const direction = window.backwards ? 'desc' : 'asc';
  const conditions = [...where.sql];
  const params: unknown[] = [...where.params];
  // By code point ("C"), whatever the database's collation: the order a client sorts keys in.
  const key = `${keyColumn} collate "C"`;
  if (window.after !== null) {
    conditions.push(`${key} > ?`);
    params.push(window.after);
  }
  if (window.before !== null) {
    conditions.push(`${key} < ?`);
    params.push(window.before);
  }
  const rows = await em.execute<Array<{ key: string }>>(
    `select ${keyColumn} as key from ${table}${conditions.length ? ` where ${conditions.join(' and ')}` : ''} order by ${key} ${direction} limit ?`,
    [...params, window.limit + 1],
  );
  const loaded = rows.length > 0 ? await em.find(entity, { [keyColumn]: { $in: rows.map((row) => row.key) } } as unknown as FilterQuery<T>) : [];
  const byKey = new Map(loaded.map((row) => [keyOf(row), row]));
  return pageOf(rows.map((row) => byKey.get(row.key)!), window);
}
