import { Migration } from '@mikro-orm/migrations';

export class Migration20261128050000_meters extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      -- Metered extras (traces, …): the operator's unit price and the quantity each workspace has
      -- included per UTC calendar month; a workspace may have its own allowance.
      create table meters (
        name text primary key check (name ~ '^[a-z][a-z0-9_.-]{0,63}$'),
        unit_price bigint not null check (unit_price >= 0),
        included_per_month bigint not null check (included_per_month >= 0),
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );
      create table workspace_meter_allowances (
        workspace_id text not null references workspaces (id),
        meter text not null references meters (name),
        included_per_month bigint not null check (included_per_month >= 0),
        primary key (workspace_id, meter)
      );
      -- What a workspace reported of a meter in a month, and what of it was charged: the
      -- allowance is counted under this row's lock, so each unit beyond it is charged once.
      create table meter_usage (
        workspace_id text not null references workspaces (id),
        meter text not null references meters (name),
        month_start timestamptz not null,
        quantity bigint not null default 0,
        billed_quantity bigint not null default 0,
        cost bigint not null default 0,
        primary key (workspace_id, meter, month_start)
      );

      -- A METERED row charges the units beyond the allowance of one report.
      alter table transactions drop constraint transactions_type_check,
        add constraint transactions_type_check check (type in ('PURCHASE', 'AUTO_TOP_UP', 'BONUS', 'DEDUCTION', 'MANUAL',
          'TRANSFER_IN', 'TRANSFER_OUT', 'REFUND', 'METERED'));
      alter table transactions add column meter text, add column meter_quantity bigint;

      -- The rollup keeps metered charges beside model calls: a row has a model or a meter.
      alter table usage_hourly alter column model drop not null, add column meter text;
      alter table usage_hourly drop constraint usage_hourly_key,
        add constraint usage_hourly_key unique nulls not distinct (wallet_id, hour, api_key_id, identity_id, project_id, model, member_id, meter);
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      delete from usage_hourly where meter is not null;
      alter table usage_hourly drop constraint usage_hourly_key, drop column meter,
        add constraint usage_hourly_key unique nulls not distinct (wallet_id, hour, api_key_id, identity_id, project_id, model, member_id);
      alter table usage_hourly alter column model set not null;
      alter table transactions drop column meter, drop column meter_quantity;
      alter table transactions drop constraint transactions_type_check,
        add constraint transactions_type_check check (type in ('PURCHASE', 'AUTO_TOP_UP', 'BONUS', 'DEDUCTION', 'MANUAL',
          'TRANSFER_IN', 'TRANSFER_OUT', 'REFUND'));
      drop table meter_usage;
      drop table workspace_meter_allowances;
      drop table meters;
    `);
  }
}
