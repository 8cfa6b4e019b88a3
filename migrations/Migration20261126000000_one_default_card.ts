import { Migration } from '@mikro-orm/migrations';

export class Migration20261126000000_one_default_card extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      -- Whenever an organization has saved cards, exactly one is its default: purchases that name
      -- no card and auto top-ups charge it. At most one is the unique index
      -- payment_methods_one_default; at least one is this trigger, checked at commit, because a
      -- change moves the default in several statements (the old one cleared, then the new one set;
      -- the default deleted, then another promoted). It runs only for the rows a change touched:
      -- two index lookups each.
      create function payment_methods_default_kept() returns trigger language plpgsql as $$
      declare
        organization text;
      begin
        select o.id into organization from (values (old.organization_id), (new.organization_id)) o (id)
          where exists (select from payment_methods c where c.organization_id = o.id)
            and not exists (select from payment_methods c where c.organization_id = o.id and c.is_default)
          limit 1;
        if organization is not null then
          raise exception 'organization "%" has saved cards but no default card', organization using errcode = 'check_violation';
        end if;
        return null;
      end $$;
      create constraint trigger payment_methods_default_kept
        after insert or delete or update of is_default, organization_id on payment_methods
        deferrable initially deferred
        for each row execute function payment_methods_default_kept();
      -- Organizations that concurrent removals left without a default get their newest card, as a
      -- removal of the default gives; Stripe's customer default follows at the next card change.
      update payment_methods set is_default = true
        where id in (
          select distinct on (organization_id) id from payment_methods c
            where not exists (select from payment_methods d where d.organization_id = c.organization_id and d.is_default)
            order by organization_id, created_at desc, id desc
        );
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop trigger payment_methods_default_kept on payment_methods; drop function payment_methods_default_kept();');
  }
}
