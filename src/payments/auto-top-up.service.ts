import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Wallet } from '../../entities';
import type { MemberActor } from '../actor';
import { inTransaction } from '../db/transaction';
import type { Deps } from '../deps';
import { DomainError, UserErrorCode } from '../errors';
import { requireNonNegative } from '../validation';
import { requireBillingProfile } from './billing.service';
import { defaultCardOf } from './payment-methods.service';
import { requirePurchaseAmount } from './purchase.service';
import { requireStripe } from './stripe';

export interface AutoTopUpInput {
  walletId: string;
  enabled: boolean;
  threshold?: bigint | null;
  amount?: bigint | null;
}

export type AutoTopUpUpdateServices = Pick<Deps, 'em' | 'stripe' | 'autoTopUps'>;

/**
 * Sets a wallet's auto top-up. Turning it on (or leaving it on) needs payments, a billing profile,
 * a threshold, an amount a purchase could be (at least $5, whole cents) and a saved card to
 * charge; turning it off keeps the values. Left on with the balance below the threshold, it
 * starts a top-up at once.
 */
export async function updateAutoTopUp({ em, stripe, autoTopUps }: AutoTopUpUpdateServices, { organizationId }: MemberActor, input: AutoTopUpInput): Promise<Wallet> {
  const threshold = input.threshold == null ? undefined : requireNonNegative(input.threshold, 'threshold');
  const amount = input.amount == null ? undefined : requirePurchaseAmount(input.amount);
  if (input.enabled) {
    requireStripe(stripe);
    await requireBillingProfile(em, organizationId, 'Auto top-up buys credits: set a billing name and address with billingProfileUpdate first');
    if ((await defaultCardOf(em, organizationId)) === null) {
      throw new DomainError(UserErrorCode.NO_PAYMENT_METHOD, 'Auto top-up charges the default card: save a card first', ['input', 'enabled']);
    }
  }
  const updated = await inTransaction(em, async (tx) => {
    const wallet = await tx.findOne(Wallet, { id: input.walletId, organization: organizationId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!wallet) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such wallet', ['input', 'walletId']);
    if (threshold !== undefined) wallet.autoTopUpThreshold = threshold;
    if (amount !== undefined) wallet.autoTopUpAmount = amount;
    if (input.enabled && (wallet.autoTopUpThreshold == null || wallet.autoTopUpAmount == null)) {
      const missing = wallet.autoTopUpThreshold == null ? 'threshold' : 'amount';
      throw new DomainError(UserErrorCode.INVALID, `Auto top-up needs ${missing === 'threshold' ? 'a threshold' : 'an amount'}`, ['input', missing]);
    }
    wallet.autoTopUpEnabled = input.enabled;
    if (input.enabled) {
      wallet.autoTopUpDisabledReason = null;
      wallet.autoTopUpFailures = 0;
    }
    await tx.flush();
    return wallet;
  });
  if (updated.autoTopUpEnabled && updated.balance < updated.autoTopUpThreshold!) autoTopUps?.walletsBelowThreshold([updated.id]);
  return updated;
}

/** Turns auto top-up off on every wallet of the organization that has it, saying why (in `em`'s transaction, if any). */
export async function disableAutoTopUps(em: EntityManager, organizationId: string, reason: string): Promise<void> {
  await em.execute('update wallets set auto_top_up_enabled = false, auto_top_up_disabled_reason = ? where organization_id = ? and auto_top_up_enabled', [reason, organizationId]);
}
