/** The gateway contract of DESIGN.md §6: what the gateway sends and what it is answered. */

import type { CallQuantities } from '../pricing/cost';

export enum DenialCode {
  INVALID_API_KEY = 'INVALID_API_KEY',
  INSUFFICIENT_CREDITS = 'INSUFFICIENT_CREDITS',
  KEY_COST_LIMIT_REACHED = 'KEY_COST_LIMIT_REACHED',
  KEY_TOKEN_LIMIT_REACHED = 'KEY_TOKEN_LIMIT_REACHED',
  KEY_RATE_LIMITED = 'KEY_RATE_LIMITED',
  IDENTITY_BUDGET_EXCEEDED = 'IDENTITY_BUDGET_EXCEEDED',
  PROJECT_BUDGET_EXCEEDED = 'PROJECT_BUDGET_EXCEEDED',
  UNKNOWN_MODEL = 'UNKNOWN_MODEL',
  UNPRICED_USAGE = 'UNPRICED_USAGE',
  UNKNOWN_METER = 'UNKNOWN_METER',
  IDEMPOTENCY_KEY_REUSED = 'IDEMPOTENCY_KEY_REUSED',
  HOLD_NOT_FOUND = 'HOLD_NOT_FOUND',
  HOLD_NOT_ACTIVE = 'HOLD_NOT_ACTIVE',
  INVOICE_PAST_DUE = 'INVOICE_PAST_DUE',
}

const DENIALS: Record<DenialCode, { httpStatus: number; message: string }> = {
  INVALID_API_KEY: { httpStatus: 401, message: 'Invalid API key: unknown, revoked or expired.' },
  INSUFFICIENT_CREDITS: { httpStatus: 402, message: 'Insufficient credits. Please top up your account.' },
  KEY_COST_LIMIT_REACHED: { httpStatus: 429, message: "The API key's cost limit for this period is reached." },
  KEY_TOKEN_LIMIT_REACHED: { httpStatus: 429, message: "The API key's token limit for this period is reached." },
  KEY_RATE_LIMITED: { httpStatus: 429, message: "Too many requests: the API key's requests per minute are used up." },
  IDENTITY_BUDGET_EXCEEDED: { httpStatus: 429, message: "This user's budget for the period is used up." },
  PROJECT_BUDGET_EXCEEDED: { httpStatus: 429, message: "The project's budget for the period is used up." },
  UNKNOWN_MODEL: { httpStatus: 400, message: 'Unknown model: it has no price.' },
  UNPRICED_USAGE: { httpStatus: 400, message: 'The model has no price for part of this usage (images).' },
  UNKNOWN_METER: { httpStatus: 400, message: 'Unknown meter: the operator has not defined it.' },
  IDEMPOTENCY_KEY_REUSED: { httpStatus: 409, message: 'This idempotency key was already used for a different request.' },
  HOLD_NOT_FOUND: { httpStatus: 404, message: 'No such hold.' },
  HOLD_NOT_ACTIVE: { httpStatus: 409, message: 'The hold was already captured or released.' },
  INVOICE_PAST_DUE: { httpStatus: 402, message: 'An invoice is past due. Please pay it to continue.' },
};

/**
 * What a refusal for lack of credits tells the gateway while an auto top-up of the wallet is
 * being charged: an off-session card payment and its credits take a second or two.
 */
export const TOP_UP_RETRY_AFTER_SECONDS = 5;

export interface Denial {
  code: DenialCode;
  message: string;
  httpStatus: number;
  retryAfterSeconds: number | null;
}

export function denial(code: DenialCode, retryAfterSeconds: number | null = null): Denial {
  return { code, ...DENIALS[code], retryAfterSeconds };
}

export interface KeyLimits {
  costRemaining: bigint | null;
  tokensRemaining: bigint | null;
  requestsRemaining: number | null;
  resetAt: Date;
}

/** A meter report's count against the workspace's monthly allowance. */
export interface MeteredOutcome {
  /** Of the units reported, those beyond the allowance: charged. */
  billedQuantity: bigint;
  /** What is left of this month's allowance after the report. */
  includedRemaining: bigint;
}

export interface GatewayOutcome {
  allowed: boolean;
  denial: Denial | null;
  /** Debit, capture and meter report: what the usage cost, and what could be charged of it. */
  cost: bigint | null;
  charged: bigint | null;
  transactionId: string | null;
  hold: { id: string; amount: bigint; expiresAt: Date } | null;
  availableBalance: bigint | null;
  limits: KeyLimits | null;
  metered: MeteredOutcome | null;
}

/** How the gateway chose the model: each mode has its markup. DIRECT (the model named by the client) has the workspace's own. */
export enum RoutingMode {
  DIRECT = 'DIRECT',
  AUTO = 'AUTO',
  TIER = 'TIER',
}

/** A call's usage as reported: its quantities, and the provider's own cost when it reported one. */
export interface ReportedUsage extends CallQuantities {
  /** Nano-USD the provider charged (bring-your-own-key, tools): the cost instead of the catalog's price. */
  providerCost: bigint | null;
}

/** The usage of a call that reported input and output tokens only. */
export const TOKENS_ONLY: Omit<ReportedUsage, 'inputTokens' | 'outputTokens'> = Object.freeze({
  cachedInputTokens: 0n,
  cacheWriteTokens: 0n,
  reasoningTokens: 0n,
  images: 0n,
  providerCost: null,
});

export interface DebitRequest extends ReportedUsage {
  kind: 'debit';
  apiKey: string;
  idempotencyKey: string;
  model: string;
  identity: string | null;
  routingMode: RoutingMode;
}

/** Null when not given: no maximum, nothing held for it (as for 0, but the request is another). */
export type Maxima = { [K in keyof CallQuantities as `max${Capitalize<K>}`]: bigint | null } & { maxProviderCost: bigint | null };

export interface AuthorizeRequest extends Maxima {
  kind: 'authorize';
  apiKey: string;
  idempotencyKey: string;
  model: string;
  identity: string | null;
  routingMode: RoutingMode;
}

export interface CaptureRequest extends ReportedUsage {
  kind: 'capture';
  holdId: string;
}

export interface ReleaseRequest {
  kind: 'release';
  holdId: string;
}

/** Units of a metered extra (traces, …) used under a key; what is beyond the month's allowance is charged. */
export interface MeterRequest {
  kind: 'meter';
  apiKey: string;
  idempotencyKey: string;
  meter: string;
  quantity: bigint;
  identity: string | null;
}

export type GatewayRequest = DebitRequest | AuthorizeRequest | CaptureRequest | ReleaseRequest | MeterRequest;
/** A request made with an API key, answered once per idempotency key. */
export type KeyedRequest = DebitRequest | AuthorizeRequest | MeterRequest;
/** A keyed request for a model call. */
export type CallRequest = DebitRequest | AuthorizeRequest;

export function isKeyed(request: GatewayRequest): request is KeyedRequest {
  return request.kind === 'debit' || request.kind === 'authorize' || request.kind === 'meter';
}

export function emptyOutcome(): GatewayOutcome {
  return { allowed: false, denial: null, cost: null, charged: null, transactionId: null, hold: null, availableBalance: null, limits: null, metered: null };
}

export function denied(code: DenialCode, retryAfterSeconds: number | null = null): GatewayOutcome {
  return { ...emptyOutcome(), denial: denial(code, retryAfterSeconds) };
}

const stored = (value: bigint | null) => (value === null ? null : `${value}n`);

/**
 * Outcomes are stored as JSON for idempotent replays, without their empty fields (a thousand
 * are written per batch); bigints travel as strings such as "5n".
 */
export function outcomeToJson(outcome: GatewayOutcome): unknown {
  const json: Record<string, unknown> = { allowed: outcome.allowed };
  if (outcome.denial) json.denial = outcome.denial;
  if (outcome.cost !== null) json.cost = stored(outcome.cost);
  if (outcome.charged !== null) json.charged = stored(outcome.charged);
  if (outcome.transactionId !== null) json.transactionId = outcome.transactionId;
  if (outcome.hold) json.hold = { id: outcome.hold.id, amount: stored(outcome.hold.amount), expiresAt: outcome.hold.expiresAt.toISOString() };
  if (outcome.availableBalance !== null) json.availableBalance = stored(outcome.availableBalance);
  const { limits } = outcome;
  if (limits) {
    const storedLimits: Record<string, unknown> = { resetAt: limits.resetAt.toISOString() };
    if (limits.costRemaining !== null) storedLimits.costRemaining = stored(limits.costRemaining);
    if (limits.tokensRemaining !== null) storedLimits.tokensRemaining = stored(limits.tokensRemaining);
    if (limits.requestsRemaining !== null) storedLimits.requestsRemaining = limits.requestsRemaining;
    json.limits = storedLimits;
  }
  if (outcome.metered) json.metered = { billedQuantity: stored(outcome.metered.billedQuantity), includedRemaining: stored(outcome.metered.includedRemaining) };
  return json;
}

export function outcomeFromJson(json: unknown): GatewayOutcome {
  const stored = JSON.parse(JSON.stringify(json), (key, value) => {
    if (typeof value === 'string' && /^-?\d+n$/.test(value)) return BigInt(value.slice(0, -1));
    if ((key === 'resetAt' || key === 'expiresAt') && typeof value === 'string') return new Date(value);
    return value;
  }) as Partial<Omit<GatewayOutcome, 'limits'>> & { limits?: Partial<KeyLimits> & { resetAt: Date } };
  const noLimits = { costRemaining: null, tokensRemaining: null, requestsRemaining: null };
  return { ...emptyOutcome(), ...stored, limits: stored.limits ? { ...noLimits, ...stored.limits } : null };
}
