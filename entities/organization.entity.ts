import { BigIntType, Entity, PrimaryKey, Property, type Opt } from '@mikro-orm/core';

/** A postal address as Stripe takes it; country is ISO 3166-1 alpha-2. */
export interface BillingAddress {
  line1: string;
  line2: string | null;
  city: string;
  postalCode: string;
  state: string | null;
  country: string;
}
import { newId } from '../src/ids';

/** A customer of the gateway operator: owns members and workspaces. */
@Entity({ tableName: 'organizations' })
export class Organization {
  @PrimaryKey({ type: 'text' })
  id: string = newId('organization');

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'timestamptz', length: 3, defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();

  /** Who invoices are addressed to; null until the billing profile is filled in. */
  @Property({ type: 'text', nullable: true })
  billingName?: string | null;

  @Property({ type: 'json', nullable: true })
  billingAddress?: BillingAddress | null;

  /** Created in Stripe the first time the organization is synced there. */
  @Property({ type: 'text', nullable: true, unique: true })
  stripeCustomerId?: string | null;

  /** Where alerts are also sent, signed with `alertWebhookSecret`. */
  @Property({ type: 'text', nullable: true })
  alertWebhookUrl?: string | null;

  @Property({ type: 'text', nullable: true, hidden: true })
  alertWebhookSecret?: string | null;

  /** Enterprise accounts: how far below zero each of its wallets may go (nano-USD); 0, none. Set by the platform admin. */
  @Property({ type: new BigIntType('bigint'), defaultRaw: '0' })
  creditLimit: bigint & Opt = 0n;

  /** Days an invoice of its usage is due after it is sent. */
  @Property({ type: 'integer', defaultRaw: '30' })
  netTermsDays: number & Opt = 30;
}
