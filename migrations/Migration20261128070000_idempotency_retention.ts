import { Migration } from '@mikro-orm/migrations';

export class Migration20261128070000_idempotency_retention extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      -- Idempotency answers are kept for a window (TOLLGATE_IDEMPOTENCY_RETENTION_HOURS) and
      -- purged oldest first in bounded batches (src/storage/maintenance.ts). A b-tree, not BRIN:
      -- purged space is reused by new rows, so the heap stops being in time order and a BRIN
      -- range would soon cover every time; entries are appended at the right end, cheaply.
      create index idempotency_keys_created_idx on idempotency_keys (created_at);
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop index idempotency_keys_created_idx;');
  }
}
