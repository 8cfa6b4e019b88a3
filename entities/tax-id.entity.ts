import { Entity, ManyToOne, type Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../src/ids';
import { Organization } from './organization.entity';

/** A tax ID printed on invoices (Stripe's tax ID types, e.g. eu_vat, gb_vat, us_ein). */
@Entity({ tableName: 'tax_ids' })
export class TaxId {
  @PrimaryKey({ type: 'text' })
  id: string = newId('taxId');

  @ManyToOne(() => Organization)
  organization!: Organization;

  @Property({ type: 'text' })
  country!: string;

  @Property({ type: 'text' })
  type!: string;

  @Property({ type: 'text' })
  value!: string;

  @Property({ type: 'text', nullable: true })
  stripeTaxId?: string | null;

  @Property({ type: 'timestamptz', length: 3, defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();
}
