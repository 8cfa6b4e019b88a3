import { Migration } from '@mikro-orm/migrations';

export class Migration20261123040000_billing_profile extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      -- What invoices are addressed to, kept in sync with the organization's Stripe customer.
      alter table organizations
        add column billing_name text,
        add column billing_address jsonb,
        add column stripe_customer_id text unique;

      create table tax_ids (
        id text primary key,
        organization_id text not null references organizations (id),
        country text not null,
        type text not null,
        value text not null,
        stripe_tax_id text,
        created_at timestamptz(3) not null default now(),
        unique (organization_id, type, value)
      );
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      drop table tax_ids;
      alter table organizations drop column billing_name, drop column billing_address, drop column stripe_customer_id;
    `);
  }
}
