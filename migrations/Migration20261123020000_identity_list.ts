import { Migration } from '@mikro-orm/migrations';

export class Migration20261123020000_identity_list extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      -- Workspace.identities pages newest first by keyset on (created_at, id): a workspace may
      -- have millions of end users, so a page must not sort them all.
      create index identities_workspace_created_idx on identities (workspace_id, created_at desc, id desc);
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop index identities_workspace_created_idx;');
  }
}
