import type { EntityName } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import DataLoader from 'dataloader';
import { ApiKey, Identity, LowBalanceThreshold, Member, Organization, PaymentMethod, Project, TaxId, type Transaction, Wallet, Workspace } from '../../entities';
import type { Page, PageArgs } from '../db/keyset';
import { type TransactionFilter, transactionPagesOfWallets } from '../ledger/transaction-history';
import { loadUsage, type UsageSnapshot } from '../limits/usage';

export interface TransactionPageKey {
  walletId: string;
  page: PageArgs;
  filter: TransactionFilter;
}

function byId<T extends { id: string }>(em: EntityManager, entity: EntityName<T>) {
  return new DataLoader<string, T | null>(async (ids) => {
    const rows = await em.find(entity, { id: { $in: [...ids] } } as never);
    const found = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => found.get(id) ?? null);
  });
}

/** Loads the children of many parents with one query, each parent's list in creation order. */
function byParent<T extends { createdAt: Date }>(
  em: EntityManager,
  entity: EntityName<T>,
  parentField: string,
  parentIdOf: (row: T) => string,
  extra: object = {},
) {
  return new DataLoader<string, T[]>(async (parentIds) => {
    const rows = await em.find(entity, { [parentField]: { $in: [...parentIds] }, ...extra } as never, {
      orderBy: { createdAt: 'asc', id: 'asc' } as never,
    });
    const groups = new Map<string, T[]>(parentIds.map((id) => [id, []]));
    for (const row of rows) groups.get(parentIdOf(row))?.push(row);
    return parentIds.map((id) => groups.get(id)!);
  });
}

/** Identities by (workspace, external id): the key is `workspaceId + "\n" + externalId`. */
function identityByExternalId(em: EntityManager) {
  return new DataLoader<string, Identity | null>(async (keys) => {
    const pairs = keys.map((key) => {
      const split = key.indexOf('\n');
      return { workspace: key.slice(0, split), externalId: key.slice(split + 1) };
    });
    const rows = await em.find(Identity, { $or: pairs });
    const found = new Map(rows.map((row) => [`${row.workspace.id}\n${row.externalId}`, row]));
    return keys.map((key) => found.get(key) ?? null);
  });
}

/** Per-request batch loaders: every field that loads by id or by parent goes through one. */
export function createLoaders(em: EntityManager, now: () => Date = () => new Date()) {
  return {
    organization: byId(em, Organization),
    workspace: byId(em, Workspace),
    walletOfWorkspace: new DataLoader<string, Wallet | null>(async (workspaceIds) => {
      const rows = await em.find(Wallet, { workspace: { $in: [...workspaceIds] } });
      const found = new Map(rows.map((row) => [row.workspace.id, row]));
      return workspaceIds.map((id) => found.get(id) ?? null);
    }),
    wallet: byId(em, Wallet),
    member: byId(em, Member),
    workspacesOfOrganization: byParent(em, Workspace, 'organization', (row) => row.organization.id),
    membersOfOrganization: byParent(em, Member, 'organization', (row) => row.organization.id, { removedAt: null }),
    taxIdsOfOrganization: byParent(em, TaxId, 'organization', (row) => row.organization.id),
    paymentMethodsOfOrganization: byParent(em, PaymentMethod, 'organization', (row) => row.organization.id),
    projectsOfWorkspace: byParent(em, Project, 'workspace', (row) => row.workspace.id),
    project: byId(em, Project),
    lowBalanceThreshold: byId(em, LowBalanceThreshold),
    apiKey: byId(em, ApiKey),
    identity: byId(em, Identity),
    identityByExternalId: identityByExternalId(em),
    /** A page of each of many wallets' ledgers, batched per distinct page and filter. */
    transactionPage: new DataLoader<TransactionPageKey, Page<Transaction>, string>(
      async (keys) => {
        const groups = new Map<string, TransactionPageKey[]>();
        for (const key of keys) {
          const shape = JSON.stringify([key.page, key.filter]);
          groups.set(shape, [...(groups.get(shape) ?? []), key]);
        }
        const found = new Map<TransactionPageKey, Page<Transaction> | Error>();
        await Promise.all(
          [...groups.values()].map(async (group) => {
            try {
              const pages = await transactionPagesOfWallets(em, group.map((key) => key.walletId), group[0].page, group[0].filter);
              group.forEach((key, i) => found.set(key, pages[i]));
            } catch (error) {
              for (const key of group) found.set(key, error as Error);
            }
          }),
        );
        return keys.map((key) => found.get(key)!);
      },
      { cacheKeyFn: (key) => JSON.stringify([key.walletId, key.page, key.filter]) },
    ),
    /** Counters of the current periods by subject (key, identity or project) id, judged at one instant per batch. */
    usage: new DataLoader<string, UsageSnapshot>((subjectIds) => loadUsage(em, subjectIds, now())),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
