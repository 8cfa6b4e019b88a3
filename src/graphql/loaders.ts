import type { EntityName } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import DataLoader from 'dataloader';
import { ApiKey, EnterpriseInvoice, Identity, LowBalanceThreshold, Member, Organization, PaymentMethod, Project, Purchase, type PurchaseKind, TaxId, Transaction, Wallet, Workspace } from '../../entities';
import { alertPagesOfOrganizations } from '../alerts/alert.service';
import { keysetPagesByParent, type Page, type PageArgs } from '../db/keyset';
import { type TransactionFilter, transactionPagesOfWallets } from '../ledger/transaction-history';
import { loadUsage, type UsageSnapshot } from '../limits/usage';

export interface PageKey<F> {
  parentId: string;
  page: PageArgs;
  filter?: F;
}

/** A loader of one page per parent, fetched for all parents asking the same page (and filter) at once. */
function pagesByParent<T, F = undefined>(fetch: (parentIds: string[], page: PageArgs, filter: F) => Promise<Array<Page<T>>>) {
  const shapeOf = (key: PageKey<F>) => JSON.stringify([key.page, key.filter ?? null]);
  return new DataLoader<PageKey<F>, Page<T>, string>(
    async (keys) => {
      const groups = new Map<string, Array<PageKey<F>>>();
      for (const key of keys) {
        const shape = shapeOf(key);
        const group = groups.get(shape);
        if (group) group.push(key);
        else groups.set(shape, [key]);
      }
      const found = new Map<PageKey<F>, Page<T> | Error>();
      await Promise.all(
        [...groups.values()].map(async (group) => {
          try {
            const pages = await fetch(group.map((key) => key.parentId), group[0].page, group[0].filter as F);
            group.forEach((key, i) => found.set(key, pages[i]));
          } catch (error) {
            for (const key of group) found.set(key, error as Error);
          }
        }),
      );
      return keys.map((key) => found.get(key)!);
    },
    { cacheKeyFn: (key) => `${key.parentId}|${shapeOf(key)}` },
  );
}

function byId<T extends { id: string }>(em: EntityManager, entity: EntityName<T>) {
  return new DataLoader<string, T | null>(async (ids) => {
    const rows = await em.find(entity, { id: { $in: [...ids] } } as never);
    const found = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => found.get(id) ?? null);
  });
}

/** Loads the children of many parents with one query, each parent's list in creation order (or `orderBy`). */
function byParent<T extends { createdAt: Date }>(
  em: EntityManager,
  entity: EntityName<T>,
  parentField: string,
  parentIdOf: (row: T) => string,
  extra: object = {},
  orderBy: object = { createdAt: 'asc', id: 'asc' },
) {
  return new DataLoader<string, T[]>(async (parentIds) => {
    const rows = await em.find(entity, { [parentField]: { $in: [...parentIds] }, ...extra } as never, { orderBy: orderBy as never });
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

/**
 * What an organization's wallets hold together, by organization id (none: zero): balances and
 * holds summed, and what they may spend, the credit line counted for each wallet.
 */
function organizationBalances(em: EntityManager) {
  return new DataLoader<string, { balance: bigint; available: bigint }>(async (organizationIds) => {
    const rows = await em.execute<Array<{ organization_id: string; balance: string; available: string }>>(
      `select w.organization_id, sum(w.balance)::text as balance, (sum(w.balance - w.held) + count(*) * o.credit_limit)::text as available
         from wallets w join organizations o on o.id = w.organization_id
        where w.organization_id in (?) group by w.organization_id, o.credit_limit`,
      [[...organizationIds]],
    );
    const found = new Map(rows.map((row) => [row.organization_id, { balance: BigInt(row.balance), available: BigInt(row.available) }]));
    return organizationIds.map((id) => found.get(id) ?? { balance: 0n, available: 0n });
  });
}

/** Per-request batch loaders: every field that loads by id or by parent goes through one. */
export function createLoaders(em: EntityManager, now: () => Date = () => new Date()) {
  return {
    organization: byId(em, Organization),
    organizationBalance: organizationBalances(em),
    workspace: byId(em, Workspace),
    walletOfWorkspace: new DataLoader<string, Wallet | null>(async (workspaceIds) => {
      const rows = await em.find(Wallet, { workspace: { $in: [...workspaceIds] } });
      const found = new Map(rows.map((row) => [row.workspace.id, row]));
      return workspaceIds.map((id) => found.get(id) ?? null);
    }),
    wallet: byId(em, Wallet),
    transaction: byId(em, Transaction),
    member: byId(em, Member),
    taxIdsOfOrganization: byParent(em, TaxId, 'organization', (row) => row.organization.id),
    paymentMethodsOfOrganization: byParent(em, PaymentMethod, 'organization', (row) => row.organization.id),
    project: byId(em, Project),
    lowBalanceThreshold: byId(em, LowBalanceThreshold),
    lowBalanceThresholdsOfWallet: byParent(em, LowBalanceThreshold, 'wallet', (row) => row.wallet.id, {}, { amount: 'desc' }),
    apiKey: byId(em, ApiKey),
    identity: byId(em, Identity),
    identityByExternalId: identityByExternalId(em),
    /** Pages of children by parent, batched per distinct page arguments (and filter). */
    transactionPage: pagesByParent((walletIds, page, filter: TransactionFilter) => transactionPagesOfWallets(em, walletIds, page, filter)),
    workspacePage: pagesByParent((organizationIds, page) => keysetPagesByParent(em, Workspace, 'workspaces', 'organization_id', organizationIds, page, undefined, 'oldest')),
    memberPage: pagesByParent((organizationIds, page) =>
      keysetPagesByParent(em, Member, 'members', 'organization_id', organizationIds, page, { sql: ['removed_at is null'], params: [] }, 'oldest'),
    ),
    projectPage: pagesByParent((workspaceIds, page) => keysetPagesByParent(em, Project, 'projects', 'workspace_id', workspaceIds, page, undefined, 'oldest')),
    apiKeyPage: pagesByParent((workspaceIds, page) => keysetPagesByParent(em, ApiKey, 'api_keys', 'workspace_id', workspaceIds, page)),
    identityPage: pagesByParent((workspaceIds, page) => keysetPagesByParent(em, Identity, 'identities', 'workspace_id', workspaceIds, page)),
    alertPage: pagesByParent((organizationIds, page, acknowledged: boolean | null) => alertPagesOfOrganizations(em, organizationIds, page, acknowledged)),
    enterpriseInvoicePage: pagesByParent((organizationIds, page) => keysetPagesByParent(em, EnterpriseInvoice, 'enterprise_invoices', 'organization_id', organizationIds, page)),
    purchasePage: pagesByParent((organizationIds, page, kinds: PurchaseKind[] | null) =>
      keysetPagesByParent(em, Purchase, 'purchases', 'organization_id', organizationIds, page, kinds?.length ? { sql: ['kind in (?)'], params: [kinds] } : undefined),
    ),
    /** Counters of the current periods by subject (key, identity or project) id, judged at one instant per batch. */
    usage: new DataLoader<string, UsageSnapshot>((subjectIds) => loadUsage(em, subjectIds, now())),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
