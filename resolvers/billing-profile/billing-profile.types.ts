import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { MutationPayload, NodeInterface, RemovePayload } from '../common.types';
import { OrganizationType } from '../organization/organization.types';

@ObjectType('BillingAddress')
export class BillingAddressType {
  @Field()
  line1!: string;

  @Field(() => String, { nullable: true })
  line2!: string | null;

  @Field()
  city!: string;

  @Field()
  postalCode!: string;

  @Field(() => String, { nullable: true })
  state!: string | null;

  @Field({ description: 'ISO 3166-1 alpha-2, e.g. DE' })
  country!: string;
}

@ObjectType('TaxId', { implements: NodeInterface, description: 'A tax ID printed on invoices' })
export class TaxIdType extends NodeInterface {
  @Field({ description: 'ISO 3166-1 alpha-2' })
  country!: string;

  @Field({ description: "Stripe's tax ID type, e.g. eu_vat, gb_vat, us_ein" })
  type!: string;

  @Field()
  value!: string;

  @Field()
  createdAt!: Date;
}

@ObjectType('BillingProfile', { description: 'Who invoices are addressed to; kept in sync with the Stripe customer' })
export class BillingProfileType {
  @Field(() => String, { nullable: true, description: 'Null until filled in' })
  name!: string | null;

  @Field(() => BillingAddressType, { nullable: true })
  address!: BillingAddressType | null;

  @Field(() => [TaxIdType])
  taxIds!: TaxIdType[];
}

@InputType()
export class BillingAddressInput {
  @Field()
  line1!: string;

  @Field(() => String, { nullable: true })
  line2?: string | null;

  @Field()
  city!: string;

  @Field()
  postalCode!: string;

  @Field(() => String, { nullable: true })
  state?: string | null;

  @Field()
  country!: string;
}

@InputType()
export class BillingProfileUpdateInput {
  @Field()
  name!: string;

  @Field(() => BillingAddressInput)
  address!: BillingAddressInput;
}

@ObjectType()
export class BillingProfileUpdatePayload extends MutationPayload {
  @Field(() => OrganizationType, { nullable: true })
  organization?: OrganizationType;
}

@InputType()
export class TaxIdAddInput {
  @Field()
  country!: string;

  @Field()
  type!: string;

  @Field()
  value!: string;
}

@ObjectType()
export class TaxIdAddPayload extends MutationPayload {
  @Field(() => TaxIdType, { nullable: true })
  taxId?: TaxIdType;
}

@InputType()
export class TaxIdRemoveInput {
  @Field(() => ID)
  taxIdId!: string;
}

@ObjectType()
export class TaxIdRemovePayload extends RemovePayload {}
