import type { EntityName, FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { badUserInput } from '../graphql/errors';

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
  if (!match) throw badUserInput(`${argument}: not a cursor from this connection`);
  return { createdAt: new Date(Number(match[1])), id: match[2] };
}

function pageSize(value: number | null | undefined, argument: string): number | null {
  if (value == null) return null;
  if (!Number.isInteger(value) || value < 0 || value > MAX_PAGE_SIZE) {
    throw badUserInput(`${argument} must be between 0 and ${MAX_PAGE_SIZE}`);
  }
  return value;
}

/**
 * One page of a newest-first list by keyset on (created_at, id): `first`/`after` walk towards
 * older rows, `last`/`before` towards newer ones. The cost does not grow with the offset.
 */
export async function keysetPage<T extends Keyed>(
  em: EntityManager,
  entity: EntityName<T>,
  where: FilterQuery<T>,
  args: PageArgs,
): Promise<Page<T>> {
  const first = pageSize(args.first, 'first');
  const last = pageSize(args.last, 'last');
  if (first !== null && last !== null) throw badUserInput('Pass either first or last, not both');
  const backwards = last !== null;
  const limit = (backwards ? last : first) ?? DEFAULT_PAGE_SIZE;
  const conditions: FilterQuery<T>[] = [where];
  for (const [argument, cursor, older] of [
    ['after', args.after, true],
    ['before', args.before, false],
  ] as const) {
    if (!cursor) continue;
    const key = decodeCursor(cursor, argument);
    const op = older ? '$lt' : '$gt';
    conditions.push({ $or: [{ createdAt: { [op]: key.createdAt } }, { createdAt: key.createdAt, id: { [op]: key.id } }] } as FilterQuery<T>);
  }
  const direction = backwards ? 'asc' : 'desc';
  const rows = await em.find(entity, { $and: conditions } as FilterQuery<T>, {
    orderBy: [{ createdAt: direction }, { id: direction }] as never,
    limit: limit + 1,
  });
  const hasMore = rows.length > limit;
  const nodes = rows.slice(0, limit);
  if (backwards) nodes.reverse();
  return {
    nodes,
    hasNextPage: backwards ? Boolean(args.before) : hasMore,
    hasPreviousPage: backwards ? hasMore : Boolean(args.after),
  };
}
