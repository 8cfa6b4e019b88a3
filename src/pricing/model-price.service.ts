import { ModelPrice } from '../../entities';
import type { AdminActor } from '../actor';
import { keysetPageByText, type Page, type PageArgs } from '../db/keyset';
import { textArray } from '../db/recordset';
import { inTransaction } from '../db/transaction';
import type { Deps } from '../deps';
import { DomainError, UserErrorCode } from '../errors';
import { requireNonNegative, requireText } from '../validation';

export const MAX_MODEL_ID_LENGTH = 200;

export interface ModelPriceSetInput {
  model: string;
  /** Nano-USD per 1M input tokens. */
  inputPricePerMillion: bigint;
  /** Nano-USD per 1M output tokens. */
  outputPricePerMillion: bigint;
}

/** Sets the price of a model, adding the model if it is new; prices apply to calls authorized afterwards. */
export async function setModelPrice({ em, now }: Pick<Deps, 'em' | 'now'>, _admin: AdminActor, input: ModelPriceSetInput): Promise<ModelPrice> {
  const model = requireText(input.model, 'model', MAX_MODEL_ID_LENGTH);
  const inputPrice = requireNonNegative(input.inputPricePerMillion, 'inputPricePerMillion');
  const outputPrice = requireNonNegative(input.outputPricePerMillion, 'outputPricePerMillion');
  return inTransaction(em, async (tx) => {
    // One statement, so that two admins setting a new model at once both succeed (the last wins).
    await tx.execute(
      `insert into model_prices (model, input_price, output_price, updated_at)
       values (?, ?::bigint, ?::bigint, ?::timestamptz)
       on conflict (model) do update
          set input_price = excluded.input_price, output_price = excluded.output_price, updated_at = excluded.updated_at`,
      [model, inputPrice.toString(), outputPrice.toString(), now().toISOString()],
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
