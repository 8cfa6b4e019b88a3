import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { MoneyScalar } from '../../src/graphql/money.scalar';
import { MutationPayload, NodeInterface } from '../common.types';
import { TransactionObject } from '../transaction/transaction.types';

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

  @Field(() => MoneyScalar, { description: "The balance minus what active gateway holds reserve, plus the organization's credit line" })
  availableBalance!: bigint;

  @Field(() => MoneyScalar)
  change!: bigint;

  @Field(() => ID, { nullable: true, description: 'The transaction that caused it (the last one, when merged)' })
  transactionId!: string | null;
}
