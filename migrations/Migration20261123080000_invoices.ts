import { Migration } from '@mikro-orm/migrations';

export class Migration20261123080000_invoices extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      -- Each successful purchase gets a Stripe invoice (paid out of band: the PaymentIntent paid
      -- it), addressed from the customer's billing profile and tax IDs; its PDF is Stripe's.
      alter table purchases
        add column invoice_id text unique,
        add column invoice_number text,
        add column invoice_pdf text;
    `);
  }

  override async down(): Promise<void> {
    this.addSql('alter table purchases drop column invoice_id, drop column invoice_number, drop column invoice_pdf;');
  }
}
