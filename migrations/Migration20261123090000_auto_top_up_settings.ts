import { Migration } from '@mikro-orm/migrations';

export class Migration20261123090000_auto_top_up_settings extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      -- A wallet's auto top-up: when a debit leaves the balance below the threshold, buy the
      -- amount with the organization's default card. Turned off by tollgate (losing the last
      -- card, repeated failures) with a reason the dashboard shows.
      alter table wallets
        add column auto_top_up_enabled boolean not null default false,
        add column auto_top_up_threshold bigint check (auto_top_up_threshold >= 0),
        add column auto_top_up_amount bigint check (auto_top_up_amount > 0),
        add column auto_top_up_disabled_reason text,
        add constraint wallets_auto_top_up_complete
          check (not auto_top_up_enabled or (auto_top_up_threshold is not null and auto_top_up_amount is not null));
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      alter table wallets drop constraint wallets_auto_top_up_complete, drop column auto_top_up_enabled,
        drop column auto_top_up_threshold, drop column auto_top_up_amount, drop column auto_top_up_disabled_reason;
    `);
  }
}
