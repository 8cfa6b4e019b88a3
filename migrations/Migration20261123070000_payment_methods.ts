import { Migration } from '@mikro-orm/migrations';

export class Migration20261123070000_payment_methods extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      -- The organization's saved cards, as Stripe reports them (setup_intent.succeeded,
      -- payment_method.detached); the id is Stripe's PaymentMethod id.
      create table payment_methods (
        id text primary key,
        organization_id text not null references organizations (id),
        brand text not null,
        last4 text not null,
        exp_month integer not null,
        exp_year integer not null,
        is_default boolean not null default false,
        created_at timestamptz(3) not null default now()
      );
      create index payment_methods_organization_idx on payment_methods (organization_id, created_at);
      create unique index payment_methods_one_default on payment_methods (organization_id) where is_default;
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop table payment_methods;');
  }
}
