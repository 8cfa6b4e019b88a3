import { Migration } from '@mikro-orm/migrations';

/** Rebuilds the ledger's check of row types from the types it allows now, plus or minus one: other migrations add types too. */
const retypeLedger = (change: string) => `
      do $$
      declare
        allowed text[];
      begin
        select array_agg(m[1] order by m[1]) into allowed
          from pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([A-Z_]+)''', 'g') as m
         where c.conrelid = 'transactions'::regclass and c.conname = 'transactions_type_check';
        ${change}
        execute format('alter table transactions drop constraint transactions_type_check, add constraint transactions_type_check check (type = any (%L::text[]))', allowed);
      end $$;`;

export class Migration20261128060000_enterprise_accounts extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      -- Enterprise accounts: a credit line set by the platform admin. Each wallet of the
      -- organization may go down to minus the limit; 0 is no credit line. Usage is invoiced each
      -- calendar month, due net_terms_days after the invoice is sent.
      alter table organizations
        add column credit_limit bigint not null default 0 check (credit_limit >= 0),
        add column net_terms_days integer not null default 30 check (net_terms_days between 1 and 120);

      -- One invoice per organization and calendar month (UTC), so that a rerun never bills twice.
      -- DRAFT: recorded, not yet sent through Stripe (the job is retried until it is); OPEN: sent,
      -- to be paid by due_at; PAID: its payment credited the wallets; VOID: voided in Stripe.
      -- items: per workspace, the wallet and the amount billed (nano-USD, whole cents).
      create table enterprise_invoices (
        id text primary key,
        organization_id text not null references organizations (id),
        month date not null check (extract(day from month) = 1),
        amount bigint not null check (amount > 0),
        usage bigint not null check (usage > 0),
        items jsonb not null,
        net_terms_days integer not null,
        status text not null default 'DRAFT' check (status in ('DRAFT', 'OPEN', 'PAID', 'VOID')),
        stripe_invoice_id text unique,
        hosted_url text,
        due_at timestamptz(3),
        paid_at timestamptz(3),
        created_at timestamptz(3) not null default now(),
        unique (organization_id, month),
        check (status = 'DRAFT' or (stripe_invoice_id is not null and due_at is not null))
      );
      create index enterprise_invoices_page_idx on enterprise_invoices (organization_id, created_at desc, id desc);
      -- What the gateway's key read probes: an open invoice of the key's organization past its due date.
      create index enterprise_invoices_open_idx on enterprise_invoices (organization_id, due_at) where status = 'OPEN';
      ${retypeLedger(`allowed := array_append(allowed, 'INVOICE_PAYMENT');`)}
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      ${retypeLedger(`allowed := array_remove(allowed, 'INVOICE_PAYMENT');`)}
      drop table enterprise_invoices;
      alter table organizations drop column credit_limit, drop column net_terms_days;
    `);
  }
}
