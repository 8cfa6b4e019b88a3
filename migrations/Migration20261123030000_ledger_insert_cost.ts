import { Migration } from '@mikro-orm/migrations';

/** Each reference of a table checked by one statement-level trigger: column, then parent table. */
const CHECKED = {
  transactions: [
    ['wallet_id', 'wallets'],
    ['organization_id', 'organizations'],
    ['counterparty_wallet_id', 'wallets'],
    ['api_key_id', 'api_keys'],
    ['identity_id', 'identities'],
    ['project_id', 'projects'],
    ['hold_id', 'holds'],
  ],
  idempotency_keys: [['organization_id', 'organizations']],
} as const;

export class Migration20261123030000_ledger_insert_cost extends Migration {
  override async up(): Promise<void> {
    const statements = [
      `
      -- The gateway writes a thousand ledger and idempotency rows in one statement, and a
      -- foreign key checks each of them with its own query (most of that statement's time).
      -- These references are checked set-wise instead: once per statement on insert (each table
      -- has its own function, so that its query is planned once per session), with the same
      -- key-share lock on the parents, and a parent still referenced cannot be deleted. Ids are
      -- never updated, so updates are not checked.
      create function restrict_referenced_delete() returns trigger language plpgsql as $$
      declare
        referenced boolean;
      begin
        execute format('select exists (select from %1$I c where c.%2$I in (select id from old_rows))', tg_argv[0], tg_argv[1])
          into referenced;
        if referenced then
          raise exception 'delete on table "%" violates the reference "%.%"', tg_table_name, tg_argv[0], tg_argv[1]
            using errcode = 'foreign_key_violation';
        end if;
        return null;
      end $$;`,
    ];
    for (const [table, references] of Object.entries(CHECKED)) {
      statements.push(`alter table ${table} ${references.map(([column]) => `drop constraint ${table}_${column}_fkey`).join(', ')};`);
      const checks = references.map(
        ([column, parent]) =>
          `select '${column}' as reference, (select count(distinct ${column}) from new_rows) as wanted,
                  (select count(*) from (select from ${parent} p where p.id in (select ${column} from new_rows) for key share of p) l) as present`,
      );
      statements.push(
        `create function ${table}_references_exist() returns trigger language plpgsql as $$
         declare
           missing text;
         begin
           select reference into missing from (${checks.join(' union all ')}) checked where present < wanted limit 1;
           if missing is not null then
             raise exception 'insert on table "${table}" violates its reference "%"', missing using errcode = 'foreign_key_violation';
           end if;
           return null;
         end $$;
         create trigger ${table}_references after insert on ${table} referencing new table as new_rows
           for each statement execute function ${table}_references_exist();`,
      );
      for (const [column, parent] of references) {
        statements.push(
          `create trigger ${parent}_restrict_${table}_${column} after delete on ${parent} referencing old table as old_rows
             for each statement execute function restrict_referenced_delete('${table}', '${column}');`,
        );
      }
    }
    // No query reads the ledger by key (limits count in usage_counters), and every debit paid
    // for this index; analytics will add what they need.
    statements.push('drop index transactions_api_key_idx;');
    this.addSql(statements.join('\n'));
  }

  override async down(): Promise<void> {
    const statements: string[] = [];
    for (const [table, references] of Object.entries(CHECKED)) {
      statements.push(`drop trigger ${table}_references on ${table}; drop function ${table}_references_exist();`);
      for (const [column, parent] of references) {
        statements.push(`drop trigger ${parent}_restrict_${table}_${column} on ${parent};`);
        statements.push(`alter table ${table} add constraint ${table}_${column}_fkey foreign key (${column}) references ${parent} (id);`);
      }
    }
    statements.push('drop function restrict_referenced_delete();');
    statements.push('create index transactions_api_key_idx on transactions (api_key_id, created_at) where api_key_id is not null;');
    this.addSql(statements.join('\n'));
  }
}
