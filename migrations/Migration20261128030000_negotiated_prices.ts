import { Migration } from '@mikro-orm/migrations';

export class Migration20261128030000_negotiated_prices extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      -- Prices agreed with an organization, kept as a history: each row is in force from its
      -- effective_from until a later row of the same scope (the organization and one model, or all
      -- models: model null). A row is a discount off the catalog, or a fixed price of one model, or
      -- neither: the agreement for that scope ended (a model falls back to the organization-wide
      -- terms, those to the catalog). A call is priced by the terms in force when it is made.
      create table negotiated_prices (
        id text primary key,
        organization_id text not null references organizations (id),
        model text,
        discount_bps integer check (discount_bps between 0 and 10000),
        input_price bigint check (input_price >= 0),
        output_price bigint check (output_price >= 0),
        cached_input_price bigint check (cached_input_price >= 0),
        cache_write_price bigint check (cache_write_price >= 0),
        reasoning_price bigint check (reasoning_price >= 0),
        request_price bigint check (request_price >= 0),
        image_price bigint check (image_price >= 0),
        effective_from timestamptz(3) not null,
        created_at timestamptz(3) not null default now(),
        check (discount_bps is null or input_price is null),
        check ((input_price is null) = (output_price is null)),
        check (input_price is null or model is not null)
      );
      create index negotiated_prices_in_force_idx on negotiated_prices (organization_id, model, effective_from desc, created_at desc);
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop table negotiated_prices;');
  }
}
