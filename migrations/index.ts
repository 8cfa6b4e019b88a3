import { Migration20261123000000_foundation } from './Migration20261123000000_foundation';
import { Migration20261123010000_gateway } from './Migration20261123010000_gateway';
import { Migration20261123020000_identity_list } from './Migration20261123020000_identity_list';
import { Migration20261123030000_ledger_insert_cost } from './Migration20261123030000_ledger_insert_cost';
import { Migration20261123040000_billing_profile } from './Migration20261123040000_billing_profile';
import { Migration20261123050000_purchases } from './Migration20261123050000_purchases';
import { Migration20261123060000_refunds } from './Migration20261123060000_refunds';
import { Migration20261123070000_payment_methods } from './Migration20261123070000_payment_methods';
import { Migration20261123080000_invoices } from './Migration20261123080000_invoices';
import { Migration20261123090000_auto_top_up_settings } from './Migration20261123090000_auto_top_up_settings';
import { Migration20261123100000_auto_top_up } from './Migration20261123100000_auto_top_up';
import { Migration20261123110000_low_balance_alerts } from './Migration20261123110000_low_balance_alerts';
import { Migration20261123120000_alert_webhooks } from './Migration20261123120000_alert_webhooks';
import { Migration20261124000000_usage_rollup } from './Migration20261124000000_usage_rollup';
import { Migration20261126000000_one_default_card } from './Migration20261126000000_one_default_card';
import { Migration20261128000000_list_pages } from './Migration20261128000000_list_pages';
import { Migration20261128020000_call_pricing } from './Migration20261128020000_call_pricing';
import { Migration20261128030000_negotiated_prices } from './Migration20261128030000_negotiated_prices';
import { Migration20261128040000_key_owners } from './Migration20261128040000_key_owners';
import { Migration20261128050000_meters } from './Migration20261128050000_meters';
import { Migration20261128060000_enterprise_accounts } from './Migration20261128060000_enterprise_accounts';
import { Migration20261128070000_idempotency_retention } from './Migration20261128070000_idempotency_retention';

/** Listed explicitly so that the same list runs from TypeScript (tests) and compiled JS. */
export const MIGRATIONS = [
  { name: 'Migration20261123000000_foundation', class: Migration20261123000000_foundation },
  { name: 'Migration20261123010000_gateway', class: Migration20261123010000_gateway },
  { name: 'Migration20261123020000_identity_list', class: Migration20261123020000_identity_list },
  { name: 'Migration20261123030000_ledger_insert_cost', class: Migration20261123030000_ledger_insert_cost },
  { name: 'Migration20261123040000_billing_profile', class: Migration20261123040000_billing_profile },
  { name: 'Migration20261123050000_purchases', class: Migration20261123050000_purchases },
  { name: 'Migration20261123060000_refunds', class: Migration20261123060000_refunds },
  { name: 'Migration20261123070000_payment_methods', class: Migration20261123070000_payment_methods },
  { name: 'Migration20261123080000_invoices', class: Migration20261123080000_invoices },
  { name: 'Migration20261123090000_auto_top_up_settings', class: Migration20261123090000_auto_top_up_settings },
  { name: 'Migration20261123100000_auto_top_up', class: Migration20261123100000_auto_top_up },
  { name: 'Migration20261123110000_low_balance_alerts', class: Migration20261123110000_low_balance_alerts },
  { name: 'Migration20261123120000_alert_webhooks', class: Migration20261123120000_alert_webhooks },
  { name: 'Migration20261124000000_usage_rollup', class: Migration20261124000000_usage_rollup },
  { name: 'Migration20261126000000_one_default_card', class: Migration20261126000000_one_default_card },
  { name: 'Migration20261128000000_list_pages', class: Migration20261128000000_list_pages },
  { name: 'Migration20261128020000_call_pricing', class: Migration20261128020000_call_pricing },
  { name: 'Migration20261128030000_negotiated_prices', class: Migration20261128030000_negotiated_prices },
  { name: 'Migration20261128040000_key_owners', class: Migration20261128040000_key_owners },
  { name: 'Migration20261128050000_meters', class: Migration20261128050000_meters },
  { name: 'Migration20261128060000_enterprise_accounts', class: Migration20261128060000_enterprise_accounts },
  { name: 'Migration20261128070000_idempotency_retention', class: Migration20261128070000_idempotency_retention },
];
