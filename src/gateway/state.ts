import type { LockedWallet } from '../ledger/plan';
import type { KeyLimitPeriod, Period } from '../limits/periods';
import type { Counter } from '../limits/usage';
import type { CallPricing } from '../pricing/cost';
import type { GatewayOutcome, RoutingMode } from './contract';

/** The shapes a batch reads, locks and decides on: plain data, so that `decide` can be tested without a database. */

export interface KeyRow {
  id: string;
  organization_id: string;
  workspace_id: string;
  wallet_id: string;
  project_id: string | null;
  /** The member the key belongs to, whom its calls count for. */
  owner_member_id: string | null;
  secret_hash: string;
  cost_limit: string | null;
  token_limit: string | null;
  limit_period: KeyLimitPeriod;
  requests_per_minute: number | null;
  usable: boolean;
  markup_bps: number;
  project_budget: string | null;
  project_budget_period: Period | null;
  /** The organization has an invoice open past its due date (enterprise accounts). */
  past_due: boolean;
}

export interface HoldRow {
  id: string;
  organization_id: string;
  wallet_id: string;
  api_key_id: string;
  identity_id: string | null;
  project_id: string | null;
  /** The owner of the hold's key as the capture finds it: the capture is when the call is charged. */
  member_id: string | null;
  model: string;
  amount: string;
  tokens: string;
  status: 'ACTIVE' | 'CAPTURED' | 'RELEASED' | 'EXPIRED';
  created_at: Date;
  expires_at: Date;
  settle_request_hash: string | null;
  settle_response: unknown;
  routing_mode: RoutingMode;
  markup_bps: number;
  discount_bps: number;
  input_price: string;
  output_price: string;
  cached_input_price: string | null;
  cache_write_price: string | null;
  reasoning_price: string | null;
  request_price: string | null;
  image_price: string | null;
}

export interface IdentityRow {
  id: string;
  workspace_id: string;
  external_id: string;
  budget: string | null;
  budget_period: Period | null;
}

/** An overdue hold the lock expired: what it gives back. */
export interface ExpiredHold {
  wallet_id: string;
  api_key_id: string;
  identity_id: string | null;
  project_id: string | null;
  amount: string;
  tokens: string;
  created_at: Date;
}

/** Who a charge counts against: the key, and the identity and project when there are. */
export interface Subjects {
  keyId: string;
  identityId: string | null;
  projectId: string | null;
}

/** A rate-limited key's last 60 seconds, as locked. */
export interface RateWindow {
  limit: number;
  /** Requests per epoch second inside the window. */
  seconds: Map<number, number>;
  used: number;
}

/** A meter's price for a workspace: per unit beyond what is included each month. */
export interface MeterTerms {
  unitPrice: bigint;
  included: bigint;
}

/** A workspace's count of a meter in a month, as locked, and what this batch adds to it. */
export interface MeterTally {
  quantity: bigint;
  added: bigint;
  billed: bigint;
  cost: bigint;
}

/** What was read before the transaction, by request index. */
export interface BatchReads {
  keys: Map<number, KeyRow>;
  /** Null for a model without a price. */
  pricing: Map<number, CallPricing | null>;
  /** Meter reports: null for a meter that is not defined. */
  meters: Map<number, MeterTerms | null>;
  /** The answer already given under the request's idempotency key, if any. */
  seen: Map<number, { request_hash: string; response: unknown } | null>;
  /** End users, by `${workspace_id}|${external_id}`. */
  identities: Map<string, IdentityRow>;
}

/**
 * Where each request stands before anything is locked: answered already (unknown keys, replays,
 * reused keys), to be decided (`pending`), or a later copy of another request's idempotency key.
 */
export interface Triage {
  outcomes: GatewayOutcome[];
  pending: Set<number>;
  /** Index of the first request with the same (organization, idempotency key), for duplicates. */
  firstWithKey: Map<number, number>;
  requestHashes: Map<number, string>;
}

/** What the transaction locked. */
export interface LockedState {
  holds: Map<string, HoldRow>;
  wallets: LockedWallet[];
  /** Usage counters, by `counterKey`. */
  counters: Map<string, Counter>;
  expiredHolds: ExpiredHold[];
  /** By API key id. */
  rateWindows: Map<string, RateWindow>;
  /** Month counts of meters, by `meterKey`. */
  meterCounts: Map<string, bigint>;
}

export interface BatchSettings {
  /** How long an authorization holds credits unless captured or released. */
  holdTtlMs: number;
  /** Auto top-ups per wallet in 24 hours; null where this server makes none. */
  topUpDailyLimit: number | null;
}
