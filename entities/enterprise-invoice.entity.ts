import { BigIntType, Entity, Enum, ManyToOne, type Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { Organization } from './organization.entity';

export enum EnterpriseInvoiceStatus {
  /** Recorded; its Stripe invoice is not sent yet (the job is retried until it is). */
  DRAFT = 'DRAFT',
  /** Sent; to be paid by its due date. */
  OPEN = 'OPEN',
  /** Paid: each wallet was credited what its usage was billed. */
  PAID = 'PAID',
  /** Voided in Stripe. */
  VOID = 'VOID',
}

/** What one workspace's usage of the month was billed: its wallet gets this back when the invoice is paid. */
export interface EnterpriseInvoiceItem {
  workspaceId: string;
  walletId: string;
  /** Nano-USD used in the month. */
  usage: string;
  /** Nano-USD billed: the usage rounded up to the cent. */
  amount: string;
}

/** An enterprise account's invoice of one calendar month's usage (UTC), sent through Stripe on net terms. */
@Entity({ tableName: 'enterprise_invoices' })
export class EnterpriseInvoice {
  @PrimaryKey({ type: 'text' })
  id!: string;

  @ManyToOne(() => Organization)
  organization!: Organization;

  /** The first day of the month invoiced, `YYYY-MM-01`. */
  @Property({ type: 'date' })
  month!: string;

  @Property({ type: new BigIntType('bigint') })
  amount!: bigint;

  @Property({ type: new BigIntType('bigint') })
  usage!: bigint;

  @Property({ type: 'json' })
  items!: EnterpriseInvoiceItem[];

  @Property({ type: 'integer' })
  netTermsDays!: number;

  @Enum({ items: () => EnterpriseInvoiceStatus, type: 'text' })
  status: EnterpriseInvoiceStatus & Opt = EnterpriseInvoiceStatus.DRAFT;

  @Property({ type: 'text', nullable: true })
  stripeInvoiceId?: string | null;

  @Property({ type: 'text', nullable: true })
  hostedUrl?: string | null;

  @Property({ type: 'timestamptz', length: 3, nullable: true })
  dueAt?: Date | null;

  @Property({ type: 'timestamptz', length: 3, nullable: true })
  paidAt?: Date | null;

  @Property({ type: 'timestamptz', length: 3, defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();
}
