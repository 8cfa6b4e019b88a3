import { Migration } from '@mikro-orm/migrations';

export class Migration20261128020000_call_pricing extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      -- A price's other components: per 1M tokens (cached input read, cache write, reasoning),
      -- per call, per image. Null: cached input and cache writes bill as input, reasoning as
      -- output, no fee; a model without an image price takes no images.
      alter table model_prices
        add column cached_input_price bigint check (cached_input_price >= 0),
        add column cache_write_price bigint check (cache_write_price >= 0),
        add column reasoning_price bigint check (reasoning_price >= 0),
        add column request_price bigint check (request_price >= 0),
        add column image_price bigint check (image_price >= 0);

      -- The operator's markup per routing mode, and a workspace's own where the platform admin set
      -- one. A call that names no mode is DIRECT: the workspace's own markup (workspaces.markup_bps).
      create table routing_markups (
        mode text primary key check (mode in ('AUTO', 'TIER')),
        markup_bps integer not null check (markup_bps between 0 and 100000)
      );
      insert into routing_markups (mode, markup_bps) values ('AUTO', 1000), ('TIER', 800);
      create table workspace_routing_markups (
        workspace_id text not null references workspaces (id),
        mode text not null references routing_markups (mode),
        markup_bps integer not null check (markup_bps between 0 and 100000),
        primary key (workspace_id, mode)
      );

      -- A model call's row: what it used beyond input and output, and its cost split into the
      -- provider's cost and the markup (provider_reported: the provider's figure, not the catalog's).
      -- A default is stored as null, so that plain calls' rows stay as small as before: routing
      -- DIRECT, a count of 0, the catalog's price. Rows from before carry no split: their whole
      -- cost counts as provider cost.
      alter table transactions
        add column routing_mode text,
        add column provider_cost bigint,
        add column markup bigint,
        add column provider_reported boolean,
        add column cached_input_tokens bigint,
        add column cache_write_tokens bigint,
        add column reasoning_tokens bigint,
        add column images bigint;

      -- An authorization keeps the whole price it was authorized at: the capture bills it.
      alter table holds
        add column routing_mode text not null default 'DIRECT',
        add column cached_input_price bigint,
        add column cache_write_price bigint,
        add column reasoning_price bigint,
        add column request_price bigint,
        add column image_price bigint,
        add column discount_bps integer not null default 0;

      alter table usage_hourly
        add column provider_cost bigint not null default 0,
        add column markup bigint not null default 0;
      update usage_hourly set provider_cost = cost;
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      alter table usage_hourly drop column provider_cost, drop column markup;
      alter table holds drop column routing_mode, drop column cached_input_price, drop column cache_write_price,
        drop column reasoning_price, drop column request_price, drop column image_price, drop column discount_bps;
      alter table transactions drop column routing_mode, drop column provider_cost, drop column markup, drop column provider_reported,
        drop column cached_input_tokens, drop column cache_write_tokens, drop column reasoning_tokens, drop column images;
      drop table workspace_routing_markups;
      drop table routing_markups;
      alter table model_prices drop column cached_input_price, drop column cache_write_price, drop column reasoning_price,
        drop column request_price, drop column image_price;
    `);
  }
}
