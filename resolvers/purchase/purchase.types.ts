import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { PurchaseKind, PurchaseStatus } from '../../entities';
import { MoneyScalar } from '../../src/graphql/money.scalar';
import { Connection, MutationPayload, NodeInterface } from '../common.types';

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

