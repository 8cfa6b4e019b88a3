import { Migration } from '@mikro-orm/migrations';

export class Migration20261123120000_alert_webhooks extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      -- Where an organization's alerts are also sent, signed with the secret (HMAC-SHA256).
      alter table organizations add column alert_webhook_url text, add column alert_webhook_secret text;

      -- The alerts table is the outbox of webhook deliveries: PENDING until a job for it is
      -- queued (in the same transaction), then DELIVERED, or FAILED after the last attempt.
      alter table alerts
        add column webhook_status text check (webhook_status in ('PENDING', 'QUEUED', 'DELIVERED', 'FAILED')),
        add column webhook_attempts int not null default 0,
        add column webhook_error text;
      create index alerts_webhook_pending_idx on alerts (created_at) where webhook_status = 'PENDING';

      -- Every way an alert is raised owes a delivery when the organization has a webhook.
      create function tollgate_alert_webhook_due() returns trigger language plpgsql as $$
      begin
        if new.webhook_status is null and exists (
             select 1 from organizations where id = new.organization_id and alert_webhook_url is not null) then
          new.webhook_status := 'PENDING';
        end if;
        return new;
      end $$;
      create trigger alerts_webhook_due before insert on alerts for each row execute function tollgate_alert_webhook_due();
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      drop trigger alerts_webhook_due on alerts;
      drop function tollgate_alert_webhook_due();
      drop index alerts_webhook_pending_idx;
      alter table alerts drop column webhook_status, drop column webhook_attempts, drop column webhook_error;
      alter table organizations drop column alert_webhook_url, drop column alert_webhook_secret;
    `);
  }
}
