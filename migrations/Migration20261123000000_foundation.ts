import { Migration } from '@mikro-orm/migrations';

export class Migration20261123000000_foundation extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table organizations (
        id text primary key,
        name text not null,
        created_at timestamptz(3) not null default now()
      );
      create unique index organizations_name_key on organizations (name);

      create table members (
        id text primary key,
        organization_id text not null references organizations (id),
        name text not null,
        email text not null,
        role text not null check (role in ('OWNER', 'ADMIN', 'MEMBER', 'VIEWER')),
        created_at timestamptz(3) not null default now(),
        removed_at timestamptz(3)
      );
      create unique index members_active_email_key on members (organization_id, lower(email))
        where removed_at is null;

      create table access_tokens (
        id text primary key,
        member_id text not null references members (id),
        organization_id text not null references organizations (id),
        name text not null,
        token_hash text not null unique,
        prefix text not null,
        created_at timestamptz(3) not null default now(),
        revoked_at timestamptz(3)
      );
      create index access_tokens_member_idx on access_tokens (member_id);

      create table workspaces (
        id text primary key,
        organization_id text not null references organizations (id),
        name text not null,
        created_at timestamptz(3) not null default now(),
        unique (organization_id, name)
      );

      create table wallets (
        id text primary key,
        workspace_id text not null unique references workspaces (id),
        organization_id text not null references organizations (id),
        balance bigint not null default 0,
        created_at timestamptz(3) not null default now()
      );
      create index wallets_organization_idx on wallets (organization_id);

      create table projects (
        id text primary key,
        workspace_id text not null references workspaces (id),
        organization_id text not null references organizations (id),
        name text not null,
        created_at timestamptz(3) not null default now(),
        unique (workspace_id, name)
      );

      create table transactions (
        id text primary key,
        wallet_id text not null references wallets (id),
        organization_id text not null references organizations (id),
        type text not null check (type in ('PURCHASE', 'AUTO_TOP_UP', 'BONUS', 'DEDUCTION',
          'MANUAL', 'TRANSFER_IN', 'TRANSFER_OUT', 'REFUND')),
        amount bigint not null check (amount <> 0),
        balance_after bigint not null,
        description text not null,
        counterparty_wallet_id text references wallets (id),
        actor text not null,
        idempotency_key text,
        created_at timestamptz(3) not null default clock_timestamp()
      );
      create index transactions_wallet_created_idx on transactions (wallet_id, created_at desc, id desc);

      -- The ledger is append-only: corrections are new rows, never edits.
      create function transactions_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'transactions are append-only (% refused)', tg_op;
      end $$;
      create trigger transactions_append_only before update or delete on transactions
        for each row execute function transactions_append_only();

      -- A retried write returns its first answer: one row per (organization, client key).
      create table idempotency_keys (
        organization_id text not null references organizations (id),
        key text not null,
        operation text not null,
        request_hash text not null,
        response jsonb,
        created_at timestamptz(3) not null default now(),
        primary key (organization_id, key)
      );
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      drop table idempotency_keys;
      drop table transactions;
      drop function transactions_append_only();
      drop table projects;
      drop table wallets;
      drop table workspaces;
      drop table access_tokens;
      drop table members;
      drop table organizations;
    `);
  }
}
