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

function pageSize(value: number | null | undefined, argument: string): number | null {
  if (value == null) return null;
  if (!Number.isInteger(value) || value < 0 || value > MAX_PAGE_SIZE) {
    throw new MalformedInputError(`${argument} must be between 0 and ${MAX_PAGE_SIZE}`);
  }
  return value;
}

/** What page arguments ask for, checked: its size, its direction, and the cursors it starts from. */
export interface PageWindow {
  limit: number;
  backwards: boolean;
  after: Keyed | null;
  before: Keyed | null;
}

export function pageWindow(args: PageArgs): PageWindow {
  const first = pageSize(args.first, 'first');
  const last = pageSize(args.last, 'last');
  if (first !== null && last !== null) throw new MalformedInputError('Pass either first or last, not both');
  const backwards = last !== null;
  return {
    limit: (backwards ? last : first) ?? DEFAULT_PAGE_SIZE,
    backwards,
    after: args.after ? decodeCursor(args.after, 'after') : null,
    before: args.before ? decodeCursor(args.before, 'before') : null,
  };
}

/** The page made of up to `limit + 1` rows read in the window's direction. */
export function pageOf<T>(rows: T[], window: PageWindow): Page<T> {
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
 * One page of each of many parents' children (a workspace's keys, a wallet's ledger), newest
 * first by keyset on (created_at, id): `first`/`after` walk towards older rows, `last`/`before`
 * towards newer ones, and the cost does not grow with the offset. Two statements whatever the
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
): Promise<Array<Page<T>>> {
  const window = pageWindow(args);
  const direction = window.backwards ? 'asc' : 'desc';
  const conditions = [...extra.sql];
  const params: unknown[] = [...extra.params];
  for (const [key, op] of [
    [window.after, '<'],
    [window.before, '>'],
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
