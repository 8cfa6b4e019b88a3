import { BigIntType, Entity, type Opt, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * A price's optional components in nano-USD: per 1M tokens (cached input read, cache write,
 * reasoning), per call, per image. Null: cached input and cache writes bill as input, reasoning as
 * output, no fee, no images.
 */
export abstract class OptionalPriceComponents {
  @Property({ type: new BigIntType('bigint'), nullable: true })
  cachedInputPrice?: bigint | null;

  @Property({ type: new BigIntType('bigint'), nullable: true })
  cacheWritePrice?: bigint | null;

  @Property({ type: new BigIntType('bigint'), nullable: true })
  reasoningPrice?: bigint | null;

  @Property({ type: new BigIntType('bigint'), nullable: true })
  requestPrice?: bigint | null;

  @Property({ type: new BigIntType('bigint'), nullable: true })
  imagePrice?: bigint | null;
}

/** A price: nano-USD per 1M input and output tokens, and the optional components. */
export abstract class PriceComponents extends OptionalPriceComponents {
  @Property({ type: new BigIntType('bigint') })
  inputPrice!: bigint;

  @Property({ type: new BigIntType('bigint') })
  outputPrice!: bigint;
}

/** The operator's price of a model, before the markup of the call's routing mode. */
@Entity({ tableName: 'model_prices' })
export class ModelPrice extends PriceComponents {
  @PrimaryKey({ type: 'text' })
  model!: string;

  @Property({ type: 'timestamptz', length: 3, defaultRaw: 'now()' })
  updatedAt: Date & Opt = new Date();
}
