import type { EntityManager } from '@mikro-orm/postgresql';
import { Transaction, type TransactionType } from '../../entities';
import { keysetPagesByParent, type Page, type PageArgs, type SqlConditions } from '../db/keyset';
import { MalformedInputError } from '../errors';

export interface TransactionFilter {
  types?: TransactionType[] | null;
  from?: Date | null;
  to?: Date | null;
}

function checkFilter(filter: TransactionFilter): void {
  if (filter.from && filter.to && filter.from >= filter.to) throw new MalformedInputError('filter.from must be before filter.to');
}

/** A page of each of several wallets' ledgers, newest first, filtered by type and a [from, to) range. */
export async function transactionPagesOfWallets(em: EntityManager, walletIds: string[], page: PageArgs, filter: TransactionFilter): Promise<Array<Page<Transaction>>> {
  checkFilter(filter);
  const extra: SqlConditions = { sql: [], params: [] };
  if (filter.types?.length) {
    extra.sql.push('type in (?)');
    extra.params.push(filter.types);
  }
  if (filter.from) {
    extra.sql.push('created_at >= ?');
    extra.params.push(filter.from);
  }
  if (filter.to) {
    extra.sql.push('created_at < ?');
    extra.params.push(filter.to);
  }
  return keysetPagesByParent(em, Transaction, 'transactions', 'wallet_id', walletIds, page, extra);
}
