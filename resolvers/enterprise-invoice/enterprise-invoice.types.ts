import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { EnterpriseInvoiceStatus } from '../../entities';
import { MoneyScalar } from '../../src/graphql/money.scalar';
import { Connection } from '../common.types';

registerEnumType(EnterpriseInvoiceStatus, {
  name: 'EnterpriseInvoiceStatus',
  description: 'DRAFT until Stripe has sent it; OPEN until paid (past due after dueAt); PAID; VOID when voided in Stripe',
});

@ObjectType('EnterpriseInvoice', { description: "An enterprise account's invoice of one calendar month's usage (UTC), sent through Stripe on net terms" })
export class EnterpriseInvoiceType {
  @Field(() => MoneyScalar, { description: "What is billed: each workspace's usage rounded up to the cent" })
  amount!: bigint;

  @Field(() => MoneyScalar, { description: 'The gateway usage of the month' })
  usage!: bigint;

  @Field(() => EnterpriseInvoiceStatus)
  status!: EnterpriseInvoiceStatus;

  @Field(() => Date, { nullable: true, description: 'Net terms after it was sent' })
  dueAt!: Date | null;

  @Field(() => Date, { nullable: true })
  paidAt!: Date | null;

  @Field(() => String, { nullable: true, description: "Stripe's page where it is paid" })
  hostedUrl!: string | null;

  @Field()
  createdAt!: Date;
}

export const EnterpriseInvoiceConnection = Connection(EnterpriseInvoiceType, 'EnterpriseInvoice');
