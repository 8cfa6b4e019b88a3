import { ModelPrice } from '../../entities';
import type { AdminActor } from '../actor';
import { keysetPageByText, type Page, type PageArgs } from '../db/keyset';
import { textArray } from '../db/recordset';
import { inTransaction } from '../db/transaction';
import type { Deps } from '../deps';
import { DomainError, UserErrorCode } from '../errors';
import { requireNonNegative, requireText } from '../validation';

export const MAX_MODEL_ID_LENGTH = 200;

/** A price as an input gives it, in nano-USD: per 1M tokens, per call, per image; optional components left out are none. */
export interface PriceInput {
  inputPricePerMillion: bigint;
  outputPricePerMillion: bigint;
  cachedInputPricePerMillion?: bigint | null;
  cacheWritePricePerMillion?: bigint | null;
  reasoningPricePerMillion?: bigint | null;
  pricePerRequest?: bigint | null;
  pricePerImage?: bigint | null;
}

export interface ModelPriceSetInput extends PriceInput {
  model: string;
}

/** The price's components as columns (null: none), each checked; `at` is where the price is in the input ('' or 'price.'). */
export function priceColumns(input: PriceInput, at: '' | 'price.'): Record<(typeof PRICE_COLUMNS)[number], string | null> {
  const { cachedInputPricePerMillion: cached, cacheWritePricePerMillion: cacheWrite, reasoningPricePerMillion: reasoning, pricePerRequest, pricePerImage } = input;
  const text = (value: bigint | null) => (value === null ? null : value.toString());
  return {
    input_price: text(requireNonNegative(input.inputPricePerMillion, `${at}inputPricePerMillion`)),
    output_price: text(requireNonNegative(input.outputPricePerMillion, `${at}outputPricePerMillion`)),
    cached_input_price: text(cached == null ? null : requireNonNegative(cached, `${at}cachedInputPricePerMillion`)),
    cache_write_price: text(cacheWrite == null ? null : requireNonNegative(cacheWrite, `${at}cacheWritePricePerMillion`)),
    reasoning_price: text(reasoning == null ? null : requireNonNegative(reasoning, `${at}reasoningPricePerMillion`)),
    request_price: text(pricePerRequest == null ? null : requireNonNegative(pricePerRequest, `${at}pricePerRequest`)),
    image_price: text(pricePerImage == null ? null : requireNonNegative(pricePerImage, `${at}pricePerImage`)),
  };
}

export const PRICE_COLUMNS = ['input_price', 'output_price', 'cached_input_price', 'cache_write_price', 'reasoning_price', 'request_price', 'image_price'] as const;

/** Sets the price of a model, adding the model if it is new; prices apply to calls authorized afterwards. */
export async function setModelPrice({ em, now }: Pick<Deps, 'em' | 'now'>, _admin: AdminActor, input: ModelPriceSetInput): Promise<ModelPrice> {
  const model = requireText(input.model, 'model', MAX_MODEL_ID_LENGTH);
  const columns = priceColumns(input, '');
  return inTransaction(em, async (tx) => {
    // One statement, so that two admins setting a new model at once both succeed (the last wins).
    await tx.execute(
      `insert into model_prices (model, ${PRICE_COLUMNS.join(', ')}, updated_at)
       values (?, ${PRICE_COLUMNS.map(() => '?::bigint').join(', ')}, ?::timestamptz)
       on conflict (model) do update
          set ${PRICE_COLUMNS.map((column) => `${column} = excluded.${column}`).join(', ')}, updated_at = excluded.updated_at`,
      [model, ...PRICE_COLUMNS.map((column) => columns[column]), now().toISOString()],
    );
    return tx.findOneOrFail(ModelPrice, { model });
  });
}

/** Removes a model from the catalog: the gateway answers UNKNOWN_MODEL for it from then on. */
export async function removeModelPrice({ em }: Pick<Deps, 'em'>, _admin: AdminActor, input: { model: string }): Promise<ModelPrice> {
  const model = requireText(input.model, 'model', MAX_MODEL_ID_LENGTH);
  return inTransaction(em, async (tx) => {
    const price = await tx.findOne(ModelPrice, { model });
    if (!price) throw new DomainError(UserErrorCode.NOT_FOUND, 'No price for this model', ['input', 'model']);
    await tx.nativeDelete(ModelPrice, { model });
    return price;
  });
}

/** The whole catalog by model id, compared as strings: the same order under every database collation. */
/** A page of the catalog by model id, of the given models only when named. */
export async function modelPricePage({ em }: Pick<Deps, 'em'>, args: PageArgs, models: string[] | null): Promise<Page<ModelPrice>> {
  const where = models ? { sql: ['model = any(?::text[])'], params: [textArray(models)] } : undefined;
  return keysetPageByText(em, ModelPrice, 'model_prices', 'model', (price) => price.model, args, where);
}
