import { Field, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { TransactionType } from '../../entities';
import { CountScalar, TokenCountScalar } from '../../src/graphql/count.scalar';
import { MoneyScalar } from '../../src/graphql/money.scalar';
import { Connection, NodeInterface } from '../common.types';

registerEnumType(TransactionType, {
  name: 'TransactionType',
  description: 'What a ledger row records: credits bought or granted, usage, staff adjustments, transfers, refunds',
});

@ObjectType('Transaction', { implements: NodeInterface, description: 'One row of the append-only ledger' })
export class TransactionObject extends NodeInterface {
  @Field(() => TransactionType)
  type!: TransactionType;

  @Field(() => MoneyScalar, { description: 'Signed: credits are positive, debits negative' })
  amount!: bigint;

  @Field(() => MoneyScalar, { description: "The wallet's balance right after this row" })
  balanceAfter!: bigint;

  @Field()
  description!: string;

  @Field(() => String, { nullable: true, description: 'The client key the write was made with' })
  idempotencyKey!: string | null;

  @Field(() => String, { nullable: true, description: 'Gateway charges: the model used' })
  model!: string | null;

  @Field(() => TokenCountScalar, { nullable: true, description: 'Gateway charges: input tokens' })
  inputTokens!: bigint | null;

  @Field(() => TokenCountScalar, { nullable: true, description: 'Gateway charges: output tokens' })
  outputTokens!: bigint | null;

  @Field(() => TokenCountScalar, { nullable: true, description: "Gateway charges: input read from the provider's cache, when reported" })
  cachedInputTokens!: bigint | null;

  @Field(() => TokenCountScalar, { nullable: true, description: "Gateway charges: input written to the provider's cache, when reported" })
  cacheWriteTokens!: bigint | null;

  @Field(() => TokenCountScalar, { nullable: true, description: 'Gateway charges: reasoning tokens, when reported' })
  reasoningTokens!: bigint | null;

  @Field(() => TokenCountScalar, { nullable: true, description: 'Gateway charges: images, when reported' })
  images!: bigint | null;

  @Field(() => MoneyScalar, {
    nullable: true,
    description: "Gateway charges: the provider's cost of the call (after a negotiated discount); with `markup`, the amount charged",
  })
  providerCost!: bigint | null;

  @Field(() => MoneyScalar, { nullable: true, description: 'Gateway charges: the markup of the routing mode' })
  markup!: bigint | null;

  @Field(() => String, { nullable: true, description: 'METERED rows: the meter (e.g. `trace`)' })
  meter!: string | null;

  @Field(() => CountScalar, { nullable: true, description: 'METERED rows: the units charged, those of one report beyond the monthly allowance' })
  meterQuantity!: bigint | null;

  @Field()
  createdAt!: Date;
}

export const TransactionConnection = Connection(TransactionObject, 'Transaction');

@InputType({ description: 'Transactions of the given types, created in [from, to)' })
export class TransactionFilter {
  @Field(() => [TransactionType], { nullable: true })
  types?: TransactionType[] | null;

  @Field(() => Date, { nullable: true, description: 'Inclusive' })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Exclusive' })
  to?: Date | null;
}
