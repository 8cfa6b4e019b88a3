import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { PurchaseKind, PurchaseStatus } from '../../entities';
import { MoneyScalar } from '../../src/graphql/money.scalar';
import { AutoTopUpEventKind } from '../../src/realtime/pubsub';
import { Connection, MutationPayload, NodeInterface, RemovePayload } from '../common.types';
import { WalletType } from '../wallet/wallet.types';

registerEnumType(PurchaseKind, { name: 'PurchaseKind', description: 'A purchase made by a member, or an automatic top-up' });
registerEnumType(PurchaseStatus, {
  name: 'PurchaseStatus',
  description: 'PENDING until Stripe confirms; REQUIRES_ACTION while the card holder must authenticate (3-D Secure)',
});

@ObjectType('Purchase', { implements: NodeInterface, description: 'Credits bought with a card through Stripe' })
export class PurchaseType extends NodeInterface {
  @Field(() => PurchaseKind)
  kind!: PurchaseKind;

  @Field(() => MoneyScalar, { description: 'What was paid' })
  amount!: bigint;

  @Field(() => MoneyScalar, { description: 'Credits on top of the amount, by the bonus tiers' })
  bonus!: bigint;

  @Field(() => MoneyScalar, { description: 'What Stripe has refunded of the amount' })
  refunded!: bigint;

  @Field(() => PurchaseStatus)
  status!: PurchaseStatus;

  @Field(() => String, { nullable: true, description: "Stripe's reason, when the payment failed" })
  failureReason!: string | null;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  completedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'The invoice of a successful purchase (from Stripe)' })
  invoiceNumber!: string | null;

  @Field(() => String, { nullable: true, description: "Download Invoice: Stripe's PDF" })
  invoicePdf!: string | null;
}

@InputType()
export class PurchaseCreateInput {
  @Field(() => ID)
  workspaceId!: string;

  @Field(() => MoneyScalar, { description: 'USD, whole cents, at least 5' })
  amount!: bigint;

  @Field(() => String, { nullable: true, description: "The card to charge (a Stripe PaymentMethod id); the organization's default card when left out" })
  paymentMethodId?: string | null;

  @Field({ description: 'A retry with the same key returns the same purchase and charges once' })
  idempotencyKey!: string;
}

@ObjectType()
export class PurchaseCreatePayload extends MutationPayload {
  @Field(() => PurchaseType, { nullable: true })
  purchase?: PurchaseType;

  @Field(() => String, { nullable: true, description: 'When the status is REQUIRES_ACTION: for the dashboard to complete 3-D Secure with Stripe.js' })
  clientSecret?: string | null;
}

export const PurchaseConnection = Connection(PurchaseType, 'Purchase');

@ObjectType('PaymentMethod', { description: 'A saved card' })
export class PaymentMethodType {
  @Field(() => ID, { description: "Stripe's PaymentMethod id" })
  id!: string;

  @Field({ description: 'visa, mastercard, amex, …' })
  brand!: string;

  @Field()
  last4!: string;

  @Field(() => Int)
  expMonth!: number;

  @Field(() => Int)
  expYear!: number;

  @Field({ description: 'Charged when a purchase names no card, and by auto top-up' })
  isDefault!: boolean;

  @Field()
  createdAt!: Date;
}

@InputType()
export class PaymentMethodSetupStartInput {
  @Field(() => ID, { nullable: true, description: 'Your organization (the default when left out)' })
  organizationId?: string | null;
}

@ObjectType()
export class PaymentMethodSetupStartPayload extends MutationPayload {
  @Field(() => String, { nullable: true, description: "For Stripe.js's card form (confirmCardSetup)" })
  clientSecret?: string;
}

@InputType()
export class PaymentMethodSetDefaultInput {
  @Field(() => ID)
  paymentMethodId!: string;
}

@InputType()
export class PaymentMethodRemoveInput {
  @Field(() => ID)
  paymentMethodId!: string;
}

@ObjectType()
export class PaymentMethodSetDefaultPayload extends MutationPayload {
  @Field(() => PaymentMethodType, { nullable: true })
  paymentMethod?: PaymentMethodType;
}

@ObjectType()
export class PaymentMethodRemovePayload extends RemovePayload {}

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
