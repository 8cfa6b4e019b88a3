import type { EntityManager } from '@mikro-orm/postgresql';
import { Transaction, type TransactionType } from '../../entities';
import { type Page, type PageArgs, pageOf, pageWindow } from '../db/keyset';
import { textArray } from '../gateway/recordset';
import { badUserInput } from '../graphql/errors';

export interface TransactionFilter {
  types?: TransactionType[] | null;
  from?: Date | null;
  to?: Date | null;
}

function checkFilter(filter: TransactionFilter): void {
  if (filter.from && filter.to && filter.from >= filter.to) throw badUserInput('filter.from must be before filter.to');
}

/**
 * A page of each of several wallets' ledgers, newest first, filtered by type and a [from, to)
 * range, in two statements whatever the number of wallets (a dashboard showing each
 * workspace's latest rows): the ids of each wallet's page by one lateral query on the
 * (wallet, created_at, id) index, then the rows.
 */
export async function transactionPagesOfWallets(em: EntityManager, walletIds: string[], page: PageArgs, filter: TransactionFilter): Promise<Array<Page<Transaction>>> {
  checkFilter(filter);
  const window = pageWindow(page);
  const direction = window.backwards ? 'asc' : 'desc';
  const conditions: string[] = [];
  const params: unknown[] = [textArray(walletIds)];
  if (filter.types?.length) {
    conditions.push('type in (?)');
    params.push(filter.types);
  }
  if (filter.from) {
    conditions.push('created_at >= ?');
    params.push(filter.from);
  }
  if (filter.to) {
    conditions.push('created_at < ?');
    params.push(filter.to);
  }
  for (const [key, op] of [
    [window.after, '<'],
    [window.before, '>'],
  ] as const) {
    if (!key) continue;
    conditions.push(`(created_at, id) ${op} (?::timestamptz, ?)`);
    params.push(key.createdAt, key.id);
  }
  const rows = await em.execute<Array<{ wallet_id: string; id: string }>>(
    `select w.wallet_id, t.id
       from unnest(?::text[]) with ordinality as w (wallet_id, position)
      cross join lateral (
        select id, created_at from transactions
         where wallet_id = w.wallet_id${conditions.map((condition) => ` and ${condition}`).join('')}
         order by created_at ${direction}, id ${direction}
         limit ?) as t
      order by w.position, t.created_at ${direction}, t.id ${direction}`,
    [...params, window.limit + 1],
  );
  const loaded = rows.length > 0 ? await em.find(Transaction, { id: { $in: rows.map((row) => row.id) } }) : [];
  const byId = new Map(loaded.map((transaction) => [transaction.id, transaction]));
  const perWallet = new Map<string, Transaction[]>(walletIds.map((id) => [id, []]));
  for (const row of rows) perWallet.get(row.wallet_id)!.push(byId.get(row.id)!);
  return walletIds.map((id) => pageOf(perWallet.get(id)!, window));
}
