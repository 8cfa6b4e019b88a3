import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { MutationPayload, NodeInterface } from '../common.types';
import { PriceInput } from '../model-price/model-price.types';

@ObjectType('NegotiatedPrice', {
  implements: NodeInterface,
  description: "Terms agreed with an organization, in force from effectiveFrom until the next terms of the same scope (the model, or all models)",
})
export class NegotiatedPriceType extends NodeInterface {
  @Field(() => String, { nullable: true, description: 'Null: every model' })
  model!: string | null;

  @Field(() => Int, { name: 'discountBasisPoints', nullable: true, description: "A discount off the catalog's price (1000 is 10%), before the routing mode's markup" })
  discountBps!: number | null;

  @Field()
  effectiveFrom!: Date;

  @Field()
  createdAt!: Date;
}

@InputType()
export class NegotiatedPriceSetInput {
  @Field(() => ID)
  organizationId!: string;

  @Field(() => String, { nullable: true, description: 'Left out: every model (a discount only)' })
  model?: string | null;

  @Field(() => Int, { nullable: true, description: "0 to 10000 (100%) off the catalog's price" })
  discountBasisPoints?: number | null;

  @Field(() => PriceInput, { nullable: true, description: 'A fixed price of the model' })
  price?: PriceInput | null;

  @Field(() => Date, { nullable: true, description: 'Left out: now; never in the past (what was charged stays)' })
  effectiveFrom?: Date | null;
}

@ObjectType()
export class NegotiatedPriceSetPayload extends MutationPayload {
  @Field(() => NegotiatedPriceType, { nullable: true })
  negotiatedPrice?: NegotiatedPriceType;
}
