import { BigIntType, Entity, type Opt, PrimaryKey, Property } from '@mikro-orm/core';

/** The operator's price of a model, in nano-USD per 1M tokens, before the workspace markup. */
@Entity({ tableName: 'model_prices' })
export class ModelPrice {
  @PrimaryKey({ type: 'text' })
  model!: string;

  @Property({ type: new BigIntType('bigint') })
  inputPrice!: bigint;

  @Property({ type: new BigIntType('bigint') })
  outputPrice!: bigint;

  @Property({ type: 'timestamptz', length: 3, defaultRaw: 'now()' })
  updatedAt: Date & Opt = new Date();
}
