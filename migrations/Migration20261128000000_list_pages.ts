import { Migration } from '@mikro-orm/migrations';

export class Migration20261128000000_list_pages extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      -- An organization's workspaces and current members and a workspace's projects are Relay
      -- connections, oldest first by keyset on (created_at, id): a page is an index range.
      create index workspaces_organization_page_idx on workspaces (organization_id, created_at desc, id desc);
      create index members_organization_page_idx on members (organization_id, created_at desc, id desc) where removed_at is null;
      create index projects_workspace_page_idx on projects (workspace_id, created_at desc, id desc);
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      drop index workspaces_organization_page_idx;
      drop index members_organization_page_idx;
      drop index projects_workspace_page_idx;
    `);
  }
}
