import { Migration } from '@mikro-orm/migrations';

export class Migration20261123100000_auto_top_up extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      -- An auto top-up is one purchase tried up to three times, each attempt its own
      -- PaymentIntent; this is the attempt being made (or the next one, while it waits).
      alter table purchases add column attempt int not null default 1 check (attempt >= 1);

      -- However many debits see the balance below the threshold at once, one top-up is in
      -- flight per wallet: the rest meet this index and start nothing.
      create unique index purchases_one_auto_top_up_in_flight on purchases (wallet_id)
        where kind = 'AUTO_TOP_UP' and status in ('PENDING', 'REQUIRES_ACTION');
      -- The top-ups of a wallet today, against the daily limit.
      create index purchases_auto_top_up_day_idx on purchases (wallet_id, created_at) where kind = 'AUTO_TOP_UP';

      -- Failed attempts in a row; a success sets it back to 0, the third failure turns auto top-up off.
      alter table wallets add column auto_top_up_failures int not null default 0;

      -- What needs someone's attention, shown in the dashboard until acknowledged.
      create table alerts (
        id text primary key,
        organization_id text not null references organizations (id),
        wallet_id text references wallets (id),
        kind text not null check (kind in ('AUTO_TOP_UP_DISABLED', 'AUTO_TOP_UP_DAILY_LIMIT')),
        message text not null,
        -- The same condition raises one alert (e.g. the daily limit once per wallet and day).
        dedupe_key text unique,
        created_at timestamptz(3) not null default now(),
        acknowledged_at timestamptz(3),
        acknowledged_by text
      );
      create index alerts_organization_created_idx on alerts (organization_id, created_at desc, id desc);
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      drop table alerts;
      alter table wallets drop column auto_top_up_failures;
      drop index purchases_auto_top_up_day_idx;
      drop index purchases_one_auto_top_up_in_flight;
      alter table purchases drop column attempt;
    `);
  }
}
