import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { MoneyScalar } from '../../src/graphql/money.scalar';
import { AutoTopUpEventKind } from '../../src/realtime/pubsub';
import { MutationPayload } from '../common.types';
import { WalletType } from './wallet.types';

@ObjectType('AutoTopUp', { description: "A wallet's automatic purchase when its balance drops below the threshold" })
export class AutoTopUpType {
  @Field()
  enabled!: boolean;

  @Field(() => MoneyScalar, { nullable: true, description: 'A debit that leaves the balance below this starts a top-up' })
  threshold!: bigint | null;

  @Field(() => MoneyScalar, { nullable: true, description: "What each top-up buys, with the organization's default card" })
  amount!: bigint | null;

  @Field(() => String, { nullable: true, description: 'Why tollgate turned it off (the last card removed, repeated failures)' })
  disabledReason!: string | null;
}

@InputType()
export class AutoTopUpUpdateInput {
  @Field(() => ID)
  walletId!: string;

  @Field()
  enabled!: boolean;

  @Field(() => MoneyScalar, { nullable: true, description: 'Left out: unchanged' })
  threshold?: bigint | null;

  @Field(() => MoneyScalar, { nullable: true, description: 'At least 5, whole cents; left out: unchanged' })
  amount?: bigint | null;
}

@ObjectType()
export class AutoTopUpUpdatePayload extends MutationPayload {
  @Field(() => WalletType, { nullable: true })
  wallet?: WalletType;
}

registerEnumType(AutoTopUpEventKind, { name: 'AutoTopUpEventKind', description: 'A step of an auto top-up' });

@ObjectType('AutoTopUpEvent', { description: "A step of a wallet's auto top-up, sent after it committed" })
export class AutoTopUpEventType {
  @Field(() => ID)
  walletId!: string;

  @Field(() => ID)
  purchaseId!: string;

  @Field(() => AutoTopUpEventKind)
  kind!: AutoTopUpEventKind;

  @Field(() => Int, { description: 'The attempt it is about (each is its own payment)' })
  attempt!: number;

  @Field(() => String, { nullable: true, description: "Why it failed (Stripe's reason), or why auto top-up turned off" })
  reason!: string | null;
}
