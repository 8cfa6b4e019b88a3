import { Migration } from '@mikro-orm/migrations';

export class Migration20261124000000_usage_rollup extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      -- Gateway spend per wallet, UTC hour, key, end user, project and model, kept by the batch
      -- that writes the DEDUCTION rows (in the same statement), so that usage reports add up
      -- hours instead of scanning the ledger. Always equal to the ledger's DEDUCTION rows.
      create table usage_hourly (
        wallet_id text not null references wallets (id),
        hour timestamptz not null,
        api_key_id text not null,
        identity_id text,
        project_id text,
        model text not null,
        cost bigint not null,
        input_tokens bigint not null,
        output_tokens bigint not null,
        requests bigint not null,
        constraint usage_hourly_key unique nulls not distinct (wallet_id, hour, api_key_id, identity_id, project_id, model)
      );

      insert into usage_hourly (wallet_id, hour, api_key_id, identity_id, project_id, model, cost, input_tokens, output_tokens, requests)
      select wallet_id, date_trunc('hour', created_at, 'UTC'), api_key_id, identity_id, project_id, model,
             -sum(amount), sum(input_tokens), sum(output_tokens), count(*)
        from transactions
       where type = 'DEDUCTION'
       group by 1, 2, 3, 4, 5, 6;
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop table usage_hourly;');
  }
}
