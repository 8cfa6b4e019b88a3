import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { TransactionType } from '../../entities';
import { MoneyScalar } from '../../src/graphql/money.scalar';
import { TokenCountScalar } from '../../src/graphql/count.scalar';
import { Connection, MutationPayload, NodeInterface } from '../common.types';

registerEnumType(TransactionType, {
  name: 'TransactionType',
  description: 'What a ledger row records: credits bought or granted, usage, staff adjustments, transfers, refunds',
});

@ObjectType('Wallet', {
  implements: NodeInterface,
  description: "A workspace's credit wallet; its balance always equals the sum of its transactions",
})
export class WalletType extends NodeInterface {
  @Field(() => MoneyScalar)
  balance!: bigint;

  @Field(() => MoneyScalar, { description: 'What active gateway holds reserve (an expired hold is given back at the next charge)' })
  held!: bigint;

  @Field()
  createdAt!: Date;
}

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

@InputType()
export class WalletAdjustInput {
  @Field(() => ID)
  walletId!: string;

  @Field(() => MoneyScalar, { description: 'Positive to credit, negative to debit; never zero' })
  amount!: bigint;

  @Field({ description: 'Why: shown in the transaction history' })
  description!: string;

  @Field({ description: 'A retry with the same key returns the first result and changes nothing' })
  idempotencyKey!: string;
}

@ObjectType()
export class WalletAdjustPayload extends MutationPayload {
  @Field(() => TransactionObject, { nullable: true })
  transaction?: TransactionObject;
}

@InputType()
export class WalletTransferInput {
  @Field(() => ID)
  fromWalletId!: string;

  @Field(() => ID)
  toWalletId!: string;

  @Field(() => MoneyScalar, { description: 'Positive' })
  amount!: bigint;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field({ description: 'A retry with the same key returns the first result and changes nothing' })
  idempotencyKey!: string;
}

@ObjectType()
export class WalletTransferPayload extends MutationPayload {
  @Field(() => TransactionObject, { nullable: true, description: 'The TRANSFER_OUT row of the source wallet' })
  transferOut?: TransactionObject;

  @Field(() => TransactionObject, { nullable: true, description: 'The TRANSFER_IN row of the destination wallet' })
  transferIn?: TransactionObject;
}

@ObjectType({
  description:
    'A wallet balance after a committed change. The first event is the balance at subscription time (change 0, no transaction); under load, changes within 100 ms are merged into one (the latest balance, the summed change, the last transaction)',
})
export class WalletBalanceChange {
  @Field(() => ID)
  walletId!: string;

  @Field(() => MoneyScalar)
  balance!: bigint;

  @Field(() => MoneyScalar, { description: 'The balance minus what active gateway holds reserve' })
  availableBalance!: bigint;

  @Field(() => MoneyScalar)
  change!: bigint;

  @Field(() => ID, { nullable: true, description: 'The transaction that caused it (the last one, when merged)' })
  transactionId!: string | null;
}
