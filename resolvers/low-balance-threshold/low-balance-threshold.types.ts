import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { MoneyScalar } from '../../src/graphql/money.scalar';
import { MutationPayload, NodeInterface, RemovePayload } from '../common.types';

@ObjectType('LowBalanceThreshold', {
  implements: NodeInterface,
  description: "A balance below which a wallet's chosen members are alerted, once each time the balance falls below it",
})
export class LowBalanceThresholdType extends NodeInterface {
  @Field(() => MoneyScalar)
  amount!: bigint;

  @Field({ description: 'False from its alert until the balance is back at or above it' })
  armed!: boolean;

  @Field()
  createdAt!: Date;
}

@InputType()
export class LowBalanceThresholdSetInput {
  @Field(() => ID)
  walletId!: string;

  @Field(() => MoneyScalar, { description: 'Alert when the balance falls below this (USD, above zero); setting an existing amount again changes its recipients' })
  amount!: bigint;

  @Field(() => [ID], { nullable: true, description: 'Members who receive its alerts; yourself when left out' })
  recipientMemberIds?: string[] | null;
}

@ObjectType()
export class LowBalanceThresholdSetPayload extends MutationPayload {
  @Field(() => LowBalanceThresholdType, { nullable: true })
  threshold?: LowBalanceThresholdType;
}

@InputType()
export class LowBalanceThresholdRemoveInput {
  @Field(() => ID)
  lowBalanceThresholdId!: string;
}

@ObjectType()
export class LowBalanceThresholdRemovePayload extends RemovePayload {
}
