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

export class Migration20261123030000_ledger_references extends Migration {
  override async up(): Promise<void> {
    const statements = [
      `
      -- The gateway writes a thousand ledger and idempotency rows in one statement, and a
      -- foreign key checks each of them with its own query (most of that statement's time).
      -- These references are checked set-wise instead: once per statement on insert, with the
      -- same key-share lock on the parents, and a parent still referenced cannot be deleted.
      -- Ids are never updated, so updates are not checked.
      create function check_inserted_references() returns trigger language plpgsql as $$
      declare
        i integer := 0;
        missing bigint;
      begin
        while i < tg_nargs loop
          execute format(
            'select (select count(distinct %1$I) from new_rows)
                  - (select count(*) from (select from %2$I p where p.id in (select %1$I from new_rows) for key share of p) locked)',
            tg_argv[i], tg_argv[i + 1]) into missing;
          if missing > 0 then
            raise exception 'insert on table "%" violates its reference "%": % row(s) missing in "%"',
              tg_table_name, tg_argv[i], missing, tg_argv[i + 1] using errcode = 'foreign_key_violation';
          end if;
          i := i + 2;
        end loop;
        return null;
      end $$;

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
      statements.push(
        `create trigger ${table}_references after insert on ${table} referencing new table as new_rows
           for each statement execute function check_inserted_references(${references.flat().map((name) => `'${name}'`).join(', ')});`,
      );
      for (const [column, parent] of references) {
        statements.push(
          `create trigger ${parent}_restrict_${table}_${column} after delete on ${parent} referencing old table as old_rows
             for each statement execute function restrict_referenced_delete('${table}', '${column}');`,
        );
      }
    }
    this.addSql(statements.join('\n'));
  }

  override async down(): Promise<void> {
    const statements: string[] = [];
    for (const [table, references] of Object.entries(CHECKED)) {
      statements.push(`drop trigger ${table}_references on ${table};`);
      for (const [column, parent] of references) {
        statements.push(`drop trigger ${parent}_restrict_${table}_${column} on ${parent};`);
        statements.push(`alter table ${table} add constraint ${table}_${column}_fkey foreign key (${column}) references ${parent} (id);`);
      }
    }
    statements.push('drop function check_inserted_references(); drop function restrict_referenced_delete();');
    this.addSql(statements.join('\n'));
  }
}
