import { Migration } from '@mikro-orm/migrations';

export class Migration20261123060000_refunds extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      -- What Stripe has refunded of a purchase so far (its charge's amount_refunded, which only
      -- grows): a refund event takes back only what is new, however often and in whatever order
      -- the events come.
      alter table purchases add column refunded bigint not null default 0 check (refunded >= 0 and refunded <= amount);
    `);
  }

  override async down(): Promise<void> {
    this.addSql('alter table purchases drop column refunded;');
  }
}
