import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { MutationPayload, RemovePayload } from '../common.types';

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
