import { Migration } from '@mikro-orm/migrations';

export class Migration20261123050000_purchases extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      -- A purchase of credits through a Stripe PaymentIntent. Credits are granted by the one
      -- update that moves it to SUCCEEDED, whichever path (answer or webhook) sees success first.
      create table purchases (
        id text primary key,
        organization_id text not null references organizations (id),
        wallet_id text not null references wallets (id),
        kind text not null check (kind in ('PURCHASE', 'AUTO_TOP_UP')),
        amount bigint not null check (amount > 0),
        bonus bigint not null check (bonus >= 0),
        status text not null check (status in ('PENDING', 'REQUIRES_ACTION', 'SUCCEEDED', 'FAILED')),
        failure_reason text,
        payment_method_id text,
        payment_intent_id text unique,
        created_at timestamptz(3) not null default now(),
        completed_at timestamptz(3)
      );
      create index purchases_organization_created_idx on purchases (organization_id, created_at desc, id desc);

      -- Stripe delivers events at least once: each is handled once, by its id.
      create table stripe_events (
        id text primary key,
        type text not null,
        received_at timestamptz(3) not null default now()
      );
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop table stripe_events; drop table purchases;');
  }
}
