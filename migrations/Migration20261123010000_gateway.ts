import { Migration } from '@mikro-orm/migrations';

export class Migration20261123010000_gateway extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      -- Markup on model prices, in basis points (1000 = 10%).
      alter table workspaces add column markup_bps integer not null default 1000
        check (markup_bps between 0 and 100000);

      -- Sum of the active holds on the wallet: available = balance - held.
      alter table wallets add column held bigint not null default 0 check (held >= 0);

      alter table projects
        add column budget bigint check (budget >= 0),
        add column budget_period text check (budget_period in ('DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY')),
        add constraint projects_budget_with_period check ((budget is null) = (budget_period is null));

      -- USD per 1M tokens, held as nano-USD per 1M tokens.
      create table model_prices (
        model text primary key,
        input_price bigint not null check (input_price >= 0),
        output_price bigint not null check (output_price >= 0),
        updated_at timestamptz(3) not null default now()
      );

      create table api_keys (
        id text primary key,
        organization_id text not null references organizations (id),
        workspace_id text not null references workspaces (id),
        wallet_id text not null references wallets (id),
        project_id text references projects (id),
        name text not null,
        secret_hash text not null unique,
        prefix text not null,
        cost_limit bigint check (cost_limit >= 0),
        token_limit bigint check (token_limit >= 0),
        limit_period text not null default 'MONTHLY' check (limit_period in ('DAILY', 'WEEKLY', 'MONTHLY')),
        requests_per_minute integer check (requests_per_minute > 0),
        expires_at timestamptz(3),
        revoked_at timestamptz(3),
        created_at timestamptz(3) not null default now()
      );
      create index api_keys_workspace_idx on api_keys (workspace_id, created_at desc, id desc);

      create table identities (
        id text primary key,
        organization_id text not null references organizations (id),
        workspace_id text not null references workspaces (id),
        external_id text not null,
        budget bigint check (budget >= 0),
        budget_period text check (budget_period in ('DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY')),
        created_at timestamptz(3) not null default now(),
        unique (workspace_id, external_id),
        constraint identities_budget_with_period check ((budget is null) = (budget_period is null))
      );

      create table holds (
        id text primary key,
        organization_id text not null references organizations (id),
        wallet_id text not null references wallets (id),
        api_key_id text not null references api_keys (id),
        identity_id text references identities (id),
        project_id text references projects (id),
        model text not null,
        -- The price and markup at authorization: the capture bills what was authorized.
        input_price bigint not null,
        output_price bigint not null,
        markup_bps integer not null,
        amount bigint not null check (amount >= 0),
        tokens bigint not null check (tokens >= 0),
        status text not null check (status in ('ACTIVE', 'CAPTURED', 'RELEASED', 'EXPIRED')),
        created_at timestamptz(3) not null,
        expires_at timestamptz(3) not null,
        settled_at timestamptz(3),
        settle_request_hash text,
        settle_response jsonb
      );
      create index holds_active_idx on holds (wallet_id, expires_at) where status = 'ACTIVE';

      -- Spend per subject (key, identity, project) and calendar period, active holds included in
      -- held_*; a new period is a new row, so nothing has to reset.
      create table usage_counters (
        subject_id text not null,
        period text not null check (period in ('DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY')),
        period_start timestamptz not null,
        cost bigint not null default 0,
        tokens bigint not null default 0,
        requests bigint not null default 0,
        held_cost bigint not null default 0,
        held_tokens bigint not null default 0,
        primary key (subject_id, period, period_start)
      );

      -- Requests per key per second, summed over the last 60 seconds for the rate limit.
      create table rate_windows (
        api_key_id text not null references api_keys (id),
        second bigint not null,
        requests integer not null,
        primary key (api_key_id, second)
      );

      -- Lets a statement refuse to finish (and so to be committed) when what it wrote is not
      -- what its caller expected; the gateway's batches send their COMMIT with their last write.
      create function tollgate_expect(ok boolean, failure text) returns boolean language plpgsql as $$
      begin
        if not ok then
          raise exception '%', failure using errcode = 'TG001';
        end if;
        return true;
      end $$;

      -- Rows written in one batch share a timestamp and get ids in ascending order, so the
      -- (created_at, id) order of the ledger is the order they were posted in, whatever the
      -- database's default collation.
      alter table transactions alter column id type text collate "C";

      alter table transactions
        add column api_key_id text references api_keys (id),
        add column identity_id text references identities (id),
        add column project_id text references projects (id),
        add column model text,
        add column input_tokens bigint,
        add column output_tokens bigint,
        add column hold_id text references holds (id);
      create index transactions_api_key_idx on transactions (api_key_id, created_at) where api_key_id is not null;
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      alter table transactions drop column api_key_id, drop column identity_id, drop column project_id,
        drop column model, drop column input_tokens, drop column output_tokens, drop column hold_id;
      drop function tollgate_expect(boolean, text);
      drop table rate_windows;
      drop table usage_counters;
      drop table holds;
      drop table identities;
      drop table api_keys;
      drop table model_prices;
      alter table projects drop column budget, drop column budget_period;
      alter table wallets drop column held;
      alter table workspaces drop column markup_bps;
    `);
  }
}
