import { Field, InputType, ObjectType } from 'type-graphql';
import { MoneyScalar } from '../../src/graphql/money.scalar';
import { Connection, MutationPayload } from '../common.types';

@ObjectType('ModelPrice', { description: "The operator's price of a model, before each workspace's markup" })
export class ModelPriceType {
  @Field({ description: 'The model id the gateway sends, e.g. "gpt-4o"' })
  model!: string;

  @Field(() => MoneyScalar, { name: 'inputPricePerMillion', description: 'USD per 1M input tokens' })
  inputPrice!: bigint;

  @Field(() => MoneyScalar, { name: 'outputPricePerMillion', description: 'USD per 1M output tokens' })
  outputPrice!: bigint;

  @Field()
  updatedAt!: Date;
}

export const ModelPriceConnection = Connection(ModelPriceType, 'ModelPrice');

@InputType()
export class ModelPriceSetInput {
  @Field({ description: '1 to 200 characters' })
  model!: string;

  @Field(() => MoneyScalar, { description: 'USD per 1M input tokens; not negative' })
  inputPricePerMillion!: bigint;

  @Field(() => MoneyScalar, { description: 'USD per 1M output tokens; not negative' })
  outputPricePerMillion!: bigint;
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
