import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { BudgetInput } from '../budget/budget.types';
import { Connection, MutationPayload, NodeInterface } from '../common.types';

@ObjectType('Identity', {
  implements: NodeInterface,
  description: "An end user of the customer's app, known by the customer's own id, with an optional budget",
})
export class IdentityType extends NodeInterface {
  @Field({ description: "The customer's id of the user, exactly as the gateway sends it" })
  externalId!: string;

  @Field()
  createdAt!: Date;
}

export const IdentityConnection = Connection(IdentityType, 'Identity');

@InputType()
export class IdentityUpsertInput {
  @Field(() => ID)
  workspaceId!: string;

  @Field({ description: '1 to 255 characters, taken verbatim' })
  externalId!: string;

  @Field(() => BudgetInput, { nullable: true, description: 'Most the identity may spend per period. Left out: unchanged; null: removed' })
  budget?: BudgetInput | null;
}

@ObjectType()
export class IdentityUpsertPayload extends MutationPayload {
  @Field(() => IdentityType, { nullable: true })
  identity?: IdentityType;
}
