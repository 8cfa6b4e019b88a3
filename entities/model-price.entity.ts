import { BigIntType, Entity, type Opt, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * A price's components in nano-USD: per 1M tokens (input, output, cached input read, cache write,
 * reasoning), per call, per image. Null optional components: cached input and cache writes bill
 * as input, reasoning as output, no fee, no images.
 */
export abstract class PriceComponents {
  @Property({ type: new BigIntType('bigint') })
  inputPrice!: bigint;

  @Property({ type: new BigIntType('bigint') })
  outputPrice!: bigint;

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

/** The operator's price of a model, before the markup of the call's routing mode. */
@Entity({ tableName: 'model_prices' })
export class ModelPrice extends PriceComponents {
  @PrimaryKey({ type: 'text' })
  model!: string;

  @Property({ type: 'timestamptz', length: 3, defaultRaw: 'now()' })
  updatedAt: Date & Opt = new Date();
}
