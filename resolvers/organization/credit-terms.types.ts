import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { MoneyScalar } from '../../src/graphql/money.scalar';
import { MutationPayload } from '../common.types';
import { OrganizationType } from './organization.types';

@ObjectType('CreditTerms', { description: 'An enterprise account: a credit line, and its usage invoiced each month on net terms' })
export class CreditTermsType {
  @Field(() => MoneyScalar, { description: 'How far below zero each wallet of the organization may go' })
  creditLimit!: bigint;

  @Field(() => Int, { description: 'Days a monthly invoice is due after it is sent' })
  netTermsDays!: number;
}

@InputType()
export class OrganizationCreditTermsSetInput {
  @Field(() => ID)
  organizationId!: string;

  @Field(() => MoneyScalar, { description: '0 to 100000000; 0 ends the credit line (and the monthly invoices)' })
  creditLimit!: bigint;

  @Field(() => Int, { nullable: true, description: '1 to 120; left out: unchanged (30 until set)' })
  netTermsDays?: number | null;
}

@ObjectType()
export class OrganizationCreditTermsSetPayload extends MutationPayload {
  @Field(() => OrganizationType, { nullable: true })
  organization?: OrganizationType;
}
