import { NegotiatedPrice } from '../../entities';
import type { AdminActor } from '../actor';
import type { Deps } from '../deps';
import { DomainError, UserErrorCode } from '../errors';
import { newId } from '../ids';
import { requireText } from '../validation';
import { MAX_MODEL_ID_LENGTH, PRICE_COLUMNS, priceColumns, type PriceInput } from './model-price.service';

export interface NegotiatedPriceSetInput {
  organizationId: string;
  /** Left out: every model of the organization's calls (a discount only). */
  model?: string | null;
  /** A discount off the catalog price, 0 to 10000 (100%). */
  discountBasisPoints?: number | null;
  /** A fixed price of the model instead of the catalog's. */
  price?: PriceInput | null;
  /** When the terms take effect; left out: now. Never before now: a change never reprices what was charged. */
  effectiveFrom?: Date | null;
}

/**
 * Records terms agreed with an organization: a discount (for all models or one), a fixed price of
 * one model, or, with neither, the end of the terms of that scope. Each is kept, in force from its
 * time until the next of its scope; the gateway prices each call by the terms in force at the call.
 */
export async function setNegotiatedPrice({ em, now }: Pick<Deps, 'em' | 'now'>, _admin: AdminActor, input: NegotiatedPriceSetInput): Promise<NegotiatedPrice> {
  const model = input.model == null ? null : requireText(input.model, 'model', MAX_MODEL_ID_LENGTH);
  const discount = input.discountBasisPoints ?? null;
  if (discount !== null && (!Number.isInteger(discount) || discount < 0 || discount > 10_000)) {
    throw new DomainError(UserErrorCode.INVALID, 'discountBasisPoints must be between 0 and 10000 (100%)', ['input', 'discountBasisPoints']);
  }
  if (discount !== null && input.price != null) {
    throw new DomainError(UserErrorCode.INVALID, 'Give a discount or a fixed price, not both', ['input', 'price']);
  }
  if (input.price != null && model === null) {
    throw new DomainError(UserErrorCode.INVALID, 'A fixed price is for one model: name it', ['input', 'model']);
  }
  const at = now();
  const effectiveFrom = input.effectiveFrom ?? at;
  if (effectiveFrom.getTime() < at.getTime()) {
    throw new DomainError(UserErrorCode.INVALID, 'effectiveFrom cannot be in the past: what was charged stays as it was', ['input', 'effectiveFrom']);
  }
  const columns = input.price == null ? null : priceColumns(input.price, 'price.');
  const [organization] = await em.execute('select id from organizations where id = ?', [input.organizationId]);
  if (!organization) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such organization', ['input', 'organizationId']);
  const id = newId('negotiatedPrice');
  await em.execute(
    // Recorded at the database's time: of two terms for one moment, the later recorded comes first.
    `insert into negotiated_prices (id, organization_id, model, discount_bps, ${PRICE_COLUMNS.join(', ')}, effective_from)
     values (?, ?, ?, ?, ${PRICE_COLUMNS.map(() => '?::bigint').join(', ')}, ?::timestamptz)`,
    [id, input.organizationId, model, discount, ...PRICE_COLUMNS.map((column) => columns?.[column] ?? null), effectiveFrom.toISOString()],
  );
  return em.findOneOrFail(NegotiatedPrice, id);
}

/** An organization's terms, newest first: the history, with what is in force and what is to come. */
export function negotiatedPrices({ em }: Pick<Deps, 'em'>, organizationId: string): Promise<NegotiatedPrice[]> {
  return em.find(NegotiatedPrice, { organization: organizationId }, { orderBy: { effectiveFrom: 'desc', createdAt: 'desc', id: 'desc' } });
}
