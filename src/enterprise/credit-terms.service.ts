import { Organization } from '../../entities';
import type { AdminActor } from '../actor';
import { publishLowBalanceAlerts, settleLowBalance } from '../alerts/low-balance';
import { inTransaction } from '../db/transaction';
import type { Deps } from '../deps';
import { DomainError, UserErrorCode } from '../errors';

export const MIN_NET_TERMS_DAYS = 1;
export const MAX_NET_TERMS_DAYS = 120;
/** $100,000,000: beyond any real account, and far inside the range of a balance. */
export const MAX_CREDIT_LIMIT = 10n ** 17n;

export interface CreditTermsSetInput {
  organizationId: string;
  /** Nano-USD, 0 or more; 0 ends the credit line. */
  creditLimit: bigint;
  /** Left out: the organization's current terms (30 days until set). */
  netTermsDays?: number | null;
}

/**
 * Puts an organization on invoice (enterprise accounts): each of its wallets may go down to minus
 * `creditLimit`, and its usage is invoiced each month, due `netTermsDays` after the invoice is
 * sent. The change takes the wallets' locks, as every balance change does, so that it is ordered
 * with the debits judged against it, and the low-balance thresholds (judged on what is left to
 * spend) are brought up to date in the same transaction: a lower line may fire one, a higher one
 * re-arm it.
 */
export async function setCreditTerms({ em, bus }: Pick<Deps, 'em' | 'bus'>, _admin: AdminActor, input: CreditTermsSetInput): Promise<Organization> {
  // Out-of-range values are user errors naming the field, as for the other admin settings.
  if (input.creditLimit < 0n || input.creditLimit > MAX_CREDIT_LIMIT) {
    throw new DomainError(UserErrorCode.INVALID, 'creditLimit must be from 0 (no credit line) to 100000000 (USD)', ['input', 'creditLimit']);
  }
  const days = input.netTermsDays ?? null;
  if (days !== null && (!Number.isInteger(days) || days < MIN_NET_TERMS_DAYS || days > MAX_NET_TERMS_DAYS)) {
    throw new DomainError(UserErrorCode.INVALID, `netTermsDays must be a whole number of days from ${MIN_NET_TERMS_DAYS} to ${MAX_NET_TERMS_DAYS}`, ['input', 'netTermsDays']);
  }
  const alerts = await inTransaction(em, async (tx) => {
    const wallets = await tx.execute<Array<{ id: string }>>('select id from wallets where organization_id = ? order by id for no key update', [input.organizationId]);
    const updated = await tx.execute<Array<{ id: string }>>(
      'update organizations set credit_limit = ?::bigint, net_terms_days = coalesce(?::integer, net_terms_days) where id = ? returning id',
      [String(input.creditLimit), days, input.organizationId],
    );
    if (updated.length === 0) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such organization', ['input', 'organizationId']);
    return wallets.length > 0 ? settleLowBalance(tx, wallets.map((wallet) => wallet.id)) : [];
  });
  publishLowBalanceAlerts(bus, alerts);
  return em.findOneOrFail(Organization, input.organizationId, { refresh: true });
}
