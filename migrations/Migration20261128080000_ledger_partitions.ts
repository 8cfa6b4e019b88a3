import { Migration } from '@mikro-orm/migrations';

/** Months of partitions made ahead of the current one, here and by the storage worker. */
export const LEDGER_MONTHS_AHEAD = 3;

/** The ledger's triggers, the same on the plain table and the partitioned one. */
const TRIGGERS = `
      create trigger transactions_append_only before update or delete on transactions
        for each row execute function transactions_append_only();
      create trigger transactions_references after insert on transactions referencing new table as new_rows
        for each statement execute function transactions_references_exist();`;

export class Migration20261128080000_ledger_partitions extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      -- The ledger, partitioned by UTC calendar month of created_at, so that an old month can be
      -- detached and archived (README, Operations) without touching the month being written.
      -- Every row is copied over in this migration's transaction.
      alter table transactions rename to transactions_unpartitioned;
      alter table transactions_unpartitioned rename constraint transactions_pkey to transactions_unpartitioned_pkey;
      alter index transactions_wallet_created_idx rename to transactions_unpartitioned_wallet_created_idx;
      drop trigger transactions_append_only on transactions_unpartitioned;
      drop trigger transactions_references on transactions_unpartitioned;

      create table transactions (like transactions_unpartitioned including defaults including constraints including storage including comments)
        partition by range (created_at);
      -- A unique key of a partitioned table must hold the partition key. Ids are made unique by
      -- the application (nothing references a ledger row by foreign key), and a look-up by id
      -- alone still uses each partition's primary key index, led by id.
      alter table transactions add constraint transactions_pkey primary key (id, created_at);
      create index transactions_wallet_created_idx on transactions (wallet_id, created_at desc, id desc);

      -- A safety net: a row dated where no month has its partition yet (a clock far ahead, the
      -- worker stopped for months) is kept here rather than refusing the debit. Its price: a
      -- month cannot be attached while the default holds rows of it (move them first), attaching
      -- one scans the default (empty, as the worker keeps months ahead), and DETACH ... CONCURRENTLY
      -- is not allowed beside a default partition, so detaching an old month takes a brief ACCESS
      -- EXCLUSIVE lock on the ledger (milliseconds, behind the debits in flight; see README).
      -- An old month is archived rarely, while a refused debit is a customer's outage.
      create table transactions_default partition of transactions default;

      -- Makes the partition of the month that starts at month_start (a date, UTC) unless it
      -- exists; returns its name, or null when it was there. Made apart and then attached, so
      -- that debits never wait for it: ATTACH locks the ledger only against other DDL (it locks
      -- the default partition, which it scans). Used here and by src/storage/maintenance.ts.
      create function transactions_month_partition(month_start date) returns text language plpgsql as $$
      declare
        month date := date_trunc('month', month_start)::date;
        name text := 'transactions_' || to_char(month, 'YYYY_MM');
        from_at timestamptz := month::timestamp at time zone 'UTC';
        to_at timestamptz := (month + interval '1 month')::timestamp at time zone 'UTC';
      begin
        if to_regclass(name) is not null then
          return null;
        end if;
        if exists (select from transactions_default where created_at >= from_at and created_at < to_at) then
          raise exception 'the default partition of the ledger holds rows of %: its partition cannot be made until they are moved', to_char(month, 'YYYY-MM')
            using errcode = 'TG002';
        end if;
        execute format('create table %I (like transactions including defaults including constraints including storage)', name);
        execute format('alter table transactions attach partition %I for values from (%L) to (%L)', name, from_at, to_at);
        return name;
      end $$;

      select transactions_month_partition(month::date)
        from generate_series(
               date_trunc('month', least((select min(created_at) from transactions_unpartitioned), now()), 'UTC'),
               date_trunc('month', now(), 'UTC') + interval '${LEDGER_MONTHS_AHEAD} months',
               interval '1 month') as month;

      insert into transactions select * from transactions_unpartitioned;
      drop table transactions_unpartitioned;
      ${TRIGGERS}
      analyze transactions;
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      alter table transactions rename to transactions_partitioned;
      alter table transactions_partitioned rename constraint transactions_pkey to transactions_partitioned_pkey;
      alter index transactions_wallet_created_idx rename to transactions_partitioned_wallet_created_idx;
      create table transactions (like transactions_partitioned including defaults including constraints including storage including comments);
      alter table transactions add constraint transactions_pkey primary key (id);
      create index transactions_wallet_created_idx on transactions (wallet_id, created_at desc, id desc);
      insert into transactions select * from transactions_partitioned;
      drop table transactions_partitioned;
      drop function transactions_month_partition(date);
      ${TRIGGERS}
    `);
  }
}
