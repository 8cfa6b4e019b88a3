import type { FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Transaction, type TransactionType } from '../../entities';
import { keysetPage, type Page, type PageArgs } from '../db/keyset';
import { badUserInput } from '../graphql/errors';

export interface TransactionFilter {
  types?: TransactionType[] | null;
  from?: Date | null;
  to?: Date | null;
}

/** A page of a wallet's ledger, newest first, filtered by type and a [from, to) range. */
export function listTransactions(em: EntityManager, walletId: string, page: PageArgs, filter: TransactionFilter): Promise<Page<Transaction>> {
  if (filter.from && filter.to && filter.from >= filter.to) throw badUserInput('filter.from must be before filter.to');
  const where: FilterQuery<Transaction> = { wallet: walletId };
  if (filter.types?.length) where.type = { $in: filter.types };
  if (filter.from || filter.to) {
    where.createdAt = { ...(filter.from && { $gte: filter.from }), ...(filter.to && { $lt: filter.to }) };
  }
  return keysetPage(em, Transaction, where, page);
}
