import { MalformedInputError } from '../errors';
import { parseId } from '../ids';
import { IDEMPOTENCY_KEY_MAX_LENGTH } from '../idempotency';
import type { DebitRequest, GatewayOutcome, GatewayRequest } from './contract';
import type { DebitEngine } from './engine';

/** Larger counts are no real request: refused before anything is decided. */
export const MAX_TOKENS_PER_REQUEST = 100_000_000;
export const MAX_BATCH_ITEMS = 1000;

export interface KeyedInput {
  apiKey: string;
  idempotencyKey: string;
  model: string;
  identity?: string | null;
}

export interface DebitInput extends KeyedInput {
  inputTokens: number;
  outputTokens: number;
}

export interface AuthorizeInput extends KeyedInput {
  maxInputTokens?: number | null;
  maxOutputTokens?: number | null;
}

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

function keyed(input: KeyedInput, path: string) {
  return {
    apiKey: text(input.apiKey, `${path}.apiKey`, 200),
    idempotencyKey: text(input.idempotencyKey.trim() ? input.idempotencyKey : '', `${path}.idempotencyKey`, IDEMPOTENCY_KEY_MAX_LENGTH),
    model: text(input.model, `${path}.model`, 200),
    identity: input.identity == null ? null : text(input.identity, `${path}.identity`, 255),
  };
}

function debitRequest(input: DebitInput, path: string): DebitRequest {
  return {
    kind: 'debit',
    ...keyed(input, path),
    inputTokens: tokens(input.inputTokens, `${path}.inputTokens`),
    outputTokens: tokens(input.outputTokens, `${path}.outputTokens`),
  };
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
    return engine.submit({
      kind: 'authorize',
      ...keyed(input, 'input'),
      maxInputTokens: input.maxInputTokens == null ? null : tokens(input.maxInputTokens, 'input.maxInputTokens'),
      maxOutputTokens: input.maxOutputTokens == null ? null : tokens(input.maxOutputTokens, 'input.maxOutputTokens'),
    });
  },

  capture(engine: DebitEngine, input: { holdId: string; inputTokens: number; outputTokens: number }): Promise<GatewayOutcome> {
    return engine.submit({
      kind: 'capture',
      holdId: parseId('hold', input.holdId, 'input.holdId'),
      inputTokens: tokens(input.inputTokens, 'input.inputTokens'),
      outputTokens: tokens(input.outputTokens, 'input.outputTokens'),
    });
  },

  release(engine: DebitEngine, input: { holdId: string }): Promise<GatewayOutcome> {
    return engine.submit({ kind: 'release', holdId: parseId('hold', input.holdId, 'input.holdId') });
  },
};
