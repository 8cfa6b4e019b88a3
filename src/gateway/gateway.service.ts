import { MalformedInputError } from '../errors';
import { parseId } from '../ids';
import { IDEMPOTENCY_KEY_MAX_LENGTH } from '../idempotency';
import { type DebitRequest, type GatewayOutcome, type GatewayRequest, type Maxima, type ReportedUsage, RoutingMode } from './contract';
import type { DebitEngine } from './engine';

/** Larger counts are no real request: refused before anything is decided. */
export const MAX_TOKENS_PER_REQUEST = 100_000_000;
/** $1,000,000 in nano-USD: a provider's cost for one call beyond it is no real call. */
export const MAX_PROVIDER_COST = 10n ** 15n;
export const MAX_BATCH_ITEMS = 1000;

export interface KeyedInput {
  apiKey: string;
  idempotencyKey: string;
  model: string;
  identity?: string | null;
  routingMode?: RoutingMode | null;
}

/** What a call used, as the gateway reports it: left-out counts are 0. */
export interface UsageInput {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens?: number | null;
  cacheWriteTokens?: number | null;
  reasoningTokens?: number | null;
  images?: number | null;
  providerCost?: bigint | null;
}

export type DebitInput = KeyedInput & UsageInput;

export interface AuthorizeInput extends KeyedInput {
  maxInputTokens?: number | null;
  maxOutputTokens?: number | null;
  maxCachedInputTokens?: number | null;
  maxCacheWriteTokens?: number | null;
  maxReasoningTokens?: number | null;
  maxImages?: number | null;
  maxProviderCost?: bigint | null;
}

export interface CaptureInput extends UsageInput {
  holdId: string;
}

export interface MeterReportInput {
  apiKey: string;
  idempotencyKey: string;
  meter: string;
  quantity: bigint;
  identity?: string | null;
}

/** Units of one meter in one report: the gateway reports as it goes, in far smaller batches. */
export const MAX_METER_QUANTITY = 1_000_000n;


/** Characters are checked at the API edge, for every text input (src/graphql/text-inputs.ts). */
function text(value: string, field: string, maxLength: number): string {
  if (value.length === 0 || value.length > maxLength) throw new MalformedInputError(`${field} must be 1 to ${maxLength} characters`);
  return value;
}

function tokens(value: number, field: string): bigint {
  if (!Number.isInteger(value) || value < 0 || value > MAX_TOKENS_PER_REQUEST) {
    throw new MalformedInputError(`${field} must be a whole number from 0 to ${MAX_TOKENS_PER_REQUEST}`);
  }
  return BigInt(value);
}

function providerCost(value: bigint, field: string): bigint {
  if (value < 0n || value > MAX_PROVIDER_COST) throw new MalformedInputError(`${field} must be from 0 to 1000000 (USD)`);
  return value;
}

/** What every request made with an API key carries. */
function withKey(input: { apiKey: string; idempotencyKey: string; identity?: string | null }, path: string) {
  return {
    apiKey: text(input.apiKey, `${path}.apiKey`, 200),
    idempotencyKey: text(input.idempotencyKey.trim() ? input.idempotencyKey : '', `${path}.idempotencyKey`, IDEMPOTENCY_KEY_MAX_LENGTH),
    identity: input.identity == null ? null : text(input.identity, `${path}.identity`, 255),
  };
}

/** Field by field: this runs for every debit of a batch, where a spread costs. */
function keyed(input: KeyedInput, path: string) {
  const { apiKey, idempotencyKey, identity } = withKey(input, path);
  return { apiKey, idempotencyKey, identity, model: text(input.model, `${path}.model`, 200), routingMode: input.routingMode ?? RoutingMode.DIRECT };
}

function reportedUsage(input: UsageInput, path: string): ReportedUsage {
  return {
    inputTokens: tokens(input.inputTokens, `${path}.inputTokens`),
    outputTokens: tokens(input.outputTokens, `${path}.outputTokens`),
    cachedInputTokens: tokens(input.cachedInputTokens ?? 0, `${path}.cachedInputTokens`),
    cacheWriteTokens: tokens(input.cacheWriteTokens ?? 0, `${path}.cacheWriteTokens`),
    reasoningTokens: tokens(input.reasoningTokens ?? 0, `${path}.reasoningTokens`),
    images: tokens(input.images ?? 0, `${path}.images`),
    providerCost: input.providerCost == null ? null : providerCost(input.providerCost, `${path}.providerCost`),
  };
}

const maximum = (value: number | null | undefined, field: string) => (value == null ? null : tokens(value, field));

function maxima(input: AuthorizeInput, path: string): Maxima {
  return {
    maxInputTokens: maximum(input.maxInputTokens, `${path}.maxInputTokens`),
    maxOutputTokens: maximum(input.maxOutputTokens, `${path}.maxOutputTokens`),
    maxCachedInputTokens: maximum(input.maxCachedInputTokens, `${path}.maxCachedInputTokens`),
    maxCacheWriteTokens: maximum(input.maxCacheWriteTokens, `${path}.maxCacheWriteTokens`),
    maxReasoningTokens: maximum(input.maxReasoningTokens, `${path}.maxReasoningTokens`),
    maxImages: maximum(input.maxImages, `${path}.maxImages`),
    maxProviderCost: input.maxProviderCost == null ? null : providerCost(input.maxProviderCost, `${path}.maxProviderCost`),
  };
}

function debitRequest(input: DebitInput, path: string): DebitRequest {
  return { kind: 'debit', ...keyed(input, path), ...reportedUsage(input, path) };
}

/** The gateway operations: inputs are checked whole before any is decided. */
export const gateway = {
  debit(engine: DebitEngine, input: DebitInput): Promise<GatewayOutcome> {
    return engine.submit(debitRequest(input, 'input'));
  },

  debitBatch(engine: DebitEngine, debits: DebitInput[]): Promise<GatewayOutcome[]> {
    if (debits.length === 0 || debits.length > MAX_BATCH_ITEMS) {
      throw new MalformedInputError(`input.debits must hold 1 to ${MAX_BATCH_ITEMS} debits (got ${debits.length})`);
    }
    const requests: GatewayRequest[] = debits.map((debit, i) => debitRequest(debit, `input.debits[${i}]`));
    return engine.submitAll(requests);
  },

  authorize(engine: DebitEngine, input: AuthorizeInput): Promise<GatewayOutcome> {
    return engine.submit({ kind: 'authorize', ...keyed(input, 'input'), ...maxima(input, 'input') });
  },

  capture(engine: DebitEngine, input: CaptureInput): Promise<GatewayOutcome> {
    return engine.submit({ kind: 'capture', holdId: parseId('hold', input.holdId, 'input.holdId'), ...reportedUsage(input, 'input') });
  },

  release(engine: DebitEngine, input: { holdId: string }): Promise<GatewayOutcome> {
    return engine.submit({ kind: 'release', holdId: parseId('hold', input.holdId, 'input.holdId') });
  },

  meterReport(engine: DebitEngine, input: MeterReportInput): Promise<GatewayOutcome> {
    if (input.quantity < 1n || input.quantity > MAX_METER_QUANTITY) {
      throw new MalformedInputError(`input.quantity must be a whole number from 1 to ${MAX_METER_QUANTITY}`);
    }
    return engine.submit({ kind: 'meter', ...withKey(input, 'input'), meter: text(input.meter, 'input.meter', 64), quantity: input.quantity });
  },
};
