import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { MoneyScalar } from '../src/graphql/money.scalar';
import { Period } from '../src/limits/periods';
import { Connection, MutationPayload, NodeInterface } from './common.types';
import './usage.types';

@ObjectType('Identity', {
  implements: NodeInterface,
  description: "An end user of the customer's app, known by the customer's own id, with an optional budget",
})
export class IdentityType extends NodeInterface {
  @Field({ description: "The customer's id of the user, exactly as the gateway sends it" })
  externalId!: string;

  @Field(() => MoneyScalar, { nullable: true, description: 'Most the identity may spend per budgetPeriod; null: no budget' })
  budget!: bigint | null;

  @Field(() => Period, { nullable: true })
  budgetPeriod!: Period | null;

  @Field()
  createdAt!: Date;
}

export const IdentityConnection = Connection(IdentityType, 'Identity');

@InputType({
  description:
    'budget and budgetPeriod go together: give both to set the budget, null to remove it, leave both out to keep it as it is',
})
export class IdentityUpsertInput {
  @Field(() => ID)
  workspaceId!: string;

  @Field({ description: '1 to 255 characters, taken verbatim' })
  externalId!: string;

  @Field(() => MoneyScalar, { nullable: true, description: 'Not negative' })
  budget?: bigint | null;

  @Field(() => Period, { nullable: true })
  budgetPeriod?: Period | null;
}

@ObjectType()
export class IdentityUpsertPayload extends MutationPayload {
  @Field(() => IdentityType, { nullable: true })
  identity?: IdentityType;
}
