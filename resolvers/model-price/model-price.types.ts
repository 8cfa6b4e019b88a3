import { Field, InputType, ObjectType } from 'type-graphql';
import { MoneyScalar } from '../../src/graphql/money.scalar';
import { Connection, MutationPayload } from '../common.types';

/** A price's components, as the catalog and negotiated prices show them. */
@ObjectType()
export abstract class PriceFields {
  @Field(() => MoneyScalar, { name: 'inputPricePerMillion', description: 'USD per 1M input tokens' })
  inputPrice!: bigint;

  @Field(() => MoneyScalar, { name: 'outputPricePerMillion', description: 'USD per 1M output tokens' })
  outputPrice!: bigint;

  @Field(() => MoneyScalar, { name: 'cachedInputPricePerMillion', nullable: true, description: "USD per 1M input tokens read from the provider's cache; null: as input" })
  cachedInputPrice!: bigint | null;

  @Field(() => MoneyScalar, { name: 'cacheWritePricePerMillion', nullable: true, description: "USD per 1M input tokens written to the provider's cache; null: as input" })
  cacheWritePrice!: bigint | null;

  @Field(() => MoneyScalar, { name: 'reasoningPricePerMillion', nullable: true, description: 'USD per 1M reasoning tokens; null: as output' })
  reasoningPrice!: bigint | null;

  @Field(() => MoneyScalar, { name: 'pricePerRequest', nullable: true, description: 'USD per call; null: none' })
  requestPrice!: bigint | null;

  @Field(() => MoneyScalar, { name: 'pricePerImage', nullable: true, description: 'USD per image; null: the model takes no images (a call with images is refused, UNPRICED_USAGE)' })
  imagePrice!: bigint | null;
}

@ObjectType('Price', { description: "A price's components" })
export class PriceType extends PriceFields {}

@ObjectType('ModelPrice', { description: "The operator's price of a model, before the markup of the call's routing mode" })
export class ModelPriceType extends PriceFields {
  @Field({ description: 'The model id the gateway sends, e.g. "gpt-4o"' })
  model!: string;

  @Field()
  updatedAt!: Date;
}

export const ModelPriceConnection = Connection(ModelPriceType, 'ModelPrice');

@InputType({ description: 'A price: each component not negative; an optional one left out is none' })
export class PriceInput {
  @Field(() => MoneyScalar, { description: 'USD per 1M input tokens' })
  inputPricePerMillion!: bigint;

  @Field(() => MoneyScalar, { description: 'USD per 1M output tokens' })
  outputPricePerMillion!: bigint;

  @Field(() => MoneyScalar, { nullable: true, description: "USD per 1M input tokens read from the provider's cache; left out: as input" })
  cachedInputPricePerMillion?: bigint | null;

  @Field(() => MoneyScalar, { nullable: true, description: "USD per 1M input tokens written to the provider's cache; left out: as input" })
  cacheWritePricePerMillion?: bigint | null;

  @Field(() => MoneyScalar, { nullable: true, description: 'USD per 1M reasoning tokens; left out: as output' })
  reasoningPricePerMillion?: bigint | null;

  @Field(() => MoneyScalar, { nullable: true, description: 'USD per call' })
  pricePerRequest?: bigint | null;

  @Field(() => MoneyScalar, { nullable: true, description: 'USD per image; left out: the model takes no images' })
  pricePerImage?: bigint | null;
}

@InputType()
export class ModelPriceSetInput extends PriceInput {
  @Field({ description: '1 to 200 characters' })
  model!: string;
}

@ObjectType()
export class ModelPriceSetPayload extends MutationPayload {
  @Field(() => ModelPriceType, { nullable: true })
  modelPrice?: ModelPriceType;
}

@InputType()
export class ModelPriceRemoveInput {
  @Field()
  model!: string;
}

@ObjectType()
export class ModelPriceRemovePayload extends MutationPayload {
  @Field(() => ModelPriceType, { nullable: true, description: 'The price as it was before removal' })
  modelPrice?: ModelPriceType;
}
