import { Migration } from '@mikro-orm/migrations';

export class Migration20261128040000_key_owners extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      -- The member a key belongs to: its creator unless an owner or admin named another; null for
      -- keys made before keys had owners.
      alter table api_keys add column owner_member_id text references members (id);

      -- A model call counts for the member who owned its key when it was made. Copied from the
      -- key (whose reference is checked), so the ledger adds no reference check of its own;
      -- members are never deleted.
      alter table transactions add column member_id text;
      alter table usage_hourly add column member_id text;
      alter table usage_hourly drop constraint usage_hourly_key,
        add constraint usage_hourly_key unique nulls not distinct (wallet_id, hour, api_key_id, identity_id, project_id, model, member_id);
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      -- Rows of one key split between owners merge back into one.
      create temporary table usage_hourly_merged on commit drop as
        select wallet_id, hour, api_key_id, identity_id, project_id, model, sum(cost) as cost, sum(input_tokens) as input_tokens,
               sum(output_tokens) as output_tokens, sum(requests) as requests, sum(provider_cost) as provider_cost, sum(markup) as markup
          from usage_hourly group by 1, 2, 3, 4, 5, 6;
      delete from usage_hourly;
      alter table usage_hourly drop constraint usage_hourly_key, drop column member_id,
        add constraint usage_hourly_key unique nulls not distinct (wallet_id, hour, api_key_id, identity_id, project_id, model);
      insert into usage_hourly (wallet_id, hour, api_key_id, identity_id, project_id, model, cost, input_tokens, output_tokens, requests, provider_cost, markup)
        select wallet_id, hour, api_key_id, identity_id, project_id, model, cost, input_tokens, output_tokens, requests, provider_cost, markup
          from usage_hourly_merged;
      alter table transactions drop column member_id;
      alter table api_keys drop column owner_member_id;
    `);
  }
}
