import { Migration } from '@mikro-orm/migrations';

export class Migration20261123110000_low_balance_alerts extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      -- An id of ours (prefix, "_", 22 base62 characters) made inside a statement, for rows
      -- whose number is only known there (the alerts a balance change fires).
      create function tollgate_new_id(prefix text) returns text language sql volatile as $$
        select prefix || '_' || string_agg(substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', 1 + floor(random() * 62)::int, 1), '')
          from generate_series(1, 22)
      $$;

      -- Nano-USD as dollars for people, every digit kept and no trailing zeros ("$20", "-$4.5").
      create function tollgate_usd(nanos bigint) returns text language sql immutable as $$
        select case when nanos < 0 then '-$' else '$' end || trim_scale(abs(nanos::numeric) / 1000000000)::text
      $$;

      -- A balance below which the recipients are alerted, once per crossing: armed while the
      -- balance is at or above it, disarmed by the alert, armed again when the balance is back.
      create table low_balance_thresholds (
        id text primary key,
        organization_id text not null references organizations (id),
        wallet_id text not null references wallets (id),
        amount bigint not null check (amount > 0),
        recipient_member_ids text[] not null check (cardinality(recipient_member_ids) > 0),
        armed boolean not null default true,
        created_at timestamptz(3) not null default now(),
        unique (wallet_id, amount)
      );

      alter table alerts drop constraint alerts_kind_check;
      alter table alerts add constraint alerts_kind_check check (kind in ('AUTO_TOP_UP_DISABLED', 'AUTO_TOP_UP_DAILY_LIMIT', 'LOW_BALANCE'));
      -- A low-balance alert keeps what it was about, also after its threshold is removed.
      alter table alerts
        add column low_balance_threshold_id text references low_balance_thresholds (id) on delete set null,
        add column threshold bigint,
        add column balance bigint,
        add column recipient_member_ids text[] not null default '{}';
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      delete from alerts where kind = 'LOW_BALANCE';
      alter table alerts drop column low_balance_threshold_id, drop column threshold, drop column balance, drop column recipient_member_ids;
      alter table alerts drop constraint alerts_kind_check;
      alter table alerts add constraint alerts_kind_check check (kind in ('AUTO_TOP_UP_DISABLED', 'AUTO_TOP_UP_DAILY_LIMIT'));
      drop table low_balance_thresholds;
      drop function tollgate_usd(bigint);
      drop function tollgate_new_id(text);
    `);
  }
}
