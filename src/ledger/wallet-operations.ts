import type { EntityManager } from '@mikro-orm/postgresql';
import { TransactionType, Wallet } from '../../entities';
import { actorLabel, type AdminActor, type MemberActor } from '../actor';
import { inTransaction } from '../db/transaction';
import type { Deps } from '../deps';
import { DomainError, UserErrorCode } from '../errors';
import { claimIdempotencyKey, recordIdempotentResponse, validateIdempotencyKey } from '../idempotency';
import { requireText } from '../validation';
import { type LedgerEntry, loadTransactions, lockWallets, postEntries, type PostingListeners, publishPosted } from './ledger';

interface IdempotentPosting {
  organizationId: string;
  idempotencyKey: string;
  operation: string;
  /**
   * What makes two requests "the same" under one idempotency key: what the client sent, as sent
   * (text untrimmed, an optional field left out as null), not what the server made of it.
   */
  request: Record<string, string | null>;
  entries: LedgerEntry[];
}

/**
 * Posts entries once per idempotency key: a retry of the same request returns the rows of the
 * first one. Balance events (and auto top-ups) go out only after the commit.
 */
async function postIdempotently(em: EntityManager, listeners: PostingListeners, posting: IdempotentPosting) {
  validateIdempotencyKey(posting.idempotencyKey);
  const outcome = await inTransaction(em, async (tx) => {
    // The wallets first, then the key, in the gateway's order: a gateway call and this write
    // sent with one key wait for each other instead of deadlocking.
    await lockWallets(tx, posting.entries.map((entry) => entry.walletId));
    const claim = await claimIdempotencyKey<{ transactionIds: string[] }>(
      tx,
      posting.organizationId,
      posting.idempotencyKey,
      posting.operation,
      posting.request,
    );
    if (claim.kind === 'replay') return { transactionIds: claim.response.transactionIds, posted: null };
    const posted = await postEntries(
      tx,
      posting.entries.map((entry) => ({ ...entry, idempotencyKey: posting.idempotencyKey })),
    );
    await recordIdempotentResponse(tx, posting.organizationId, posting.idempotencyKey, { transactionIds: posted.transactionIds });
    return { transactionIds: posted.transactionIds, posted };
  });
  if (outcome.posted) publishPosted(listeners, outcome.posted);
  return loadTransactions(em, outcome.transactionIds);
}

async function findWallet(em: EntityManager, walletId: string, organizationId: string | null, field: string) {
  const wallet = await em.findOne(Wallet, organizationId ? { id: walletId, organization: organizationId } : { id: walletId });
  if (!wallet) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such wallet', ['input', field]);
  return wallet;
}

export interface WalletAdjustInput {
  walletId: string;
  amount: bigint;
  description: string;
  idempotencyKey: string;
}

/** What posting to a wallet uses: the request's em, and where balance changes (and auto top-ups) go. */
export type WalletServices = Pick<Deps, 'em' | 'bus' | 'autoTopUps'>;

/** A staff correction: a MANUAL credit (positive) or debit (negative) with a reason. */
export async function adjustWallet(services: WalletServices, admin: AdminActor, input: WalletAdjustInput) {
  const { em } = services;
  if (input.amount === 0n) throw new DomainError(UserErrorCode.INVALID, 'The amount must not be zero', ['input', 'amount']);
  const description = requireText(input.description, 'description', 500);
  const wallet = await findWallet(em, input.walletId, null, 'walletId');
  const [transaction] = await postIdempotently(em, services, {
    organizationId: wallet.organization.id,
    idempotencyKey: input.idempotencyKey,
    operation: 'walletAdjust',
    request: { walletId: input.walletId, amount: input.amount.toString(), description: input.description },
    entries: [{ walletId: wallet.id, type: TransactionType.MANUAL, amount: input.amount, description, actor: actorLabel(admin) }],
  });
  return transaction;
}

export interface WalletTransferInput {
  fromWalletId: string;
  toWalletId: string;
  amount: bigint;
  description?: string | null;
  idempotencyKey: string;
}

/** Moves credits between two wallets of one organization: instant, no fee, two rows in one commit. */
export async function transferBetweenWallets(services: WalletServices, member: MemberActor, input: WalletTransferInput) {
  const { em } = services;
  const { organizationId } = member;
  const actor = actorLabel(member);
  if (input.amount <= 0n) throw new DomainError(UserErrorCode.INVALID, 'The amount must be positive', ['input', 'amount']);
  if (input.fromWalletId === input.toWalletId) {
    throw new DomainError(UserErrorCode.SAME_WALLET, 'A transfer needs two different wallets', ['input', 'toWalletId']);
  }
  const description = input.description == null ? 'Transfer between workspaces' : requireText(input.description, 'description', 500);
  const from = await findWallet(em, input.fromWalletId, organizationId, 'fromWalletId');
  const to = await findWallet(em, input.toWalletId, organizationId, 'toWalletId');
  const [transferOut, transferIn] = await postIdempotently(em, services, {
    organizationId,
    idempotencyKey: input.idempotencyKey,
    operation: 'walletTransfer',
    request: { from: input.fromWalletId, to: input.toWalletId, amount: input.amount.toString(), description: input.description ?? null },
    entries: [
      { walletId: from.id, type: TransactionType.TRANSFER_OUT, amount: -input.amount, description, actor, counterpartyWalletId: to.id },
      { walletId: to.id, type: TransactionType.TRANSFER_IN, amount: input.amount, description, actor, counterpartyWalletId: from.id },
    ],
  });
  return { transferOut, transferIn };
}
