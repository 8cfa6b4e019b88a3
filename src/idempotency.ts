import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { recordset } from './db/recordset';
import { sql, type Statement } from './db/sql';
import { DomainError, UserErrorCode } from './errors';

export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

/**
 * What makes two requests "the same" under one idempotency key: the operation and what the
 * client sent, as sent (text untrimmed, an optional field left out as null, not 0).
 */
export function requestHash(operation: string, request: unknown): string {
  return createHash('sha256').update(JSON.stringify({ operation, request })).digest('hex');
}

export type Claim<R> = { kind: 'claimed' } | { kind: 'replay'; response: R };

/** Rejects keys that cannot be stored or compared sensibly. */
export function validateIdempotencyKey(key: string, field: string[] = ['input', 'idempotencyKey']): void {
  if (key.trim().length === 0 || key.length > IDEMPOTENCY_KEY_MAX_LENGTH) {
    throw new DomainError(
      UserErrorCode.INVALID,
      `The idempotency key must be 1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} characters`,
      field,
    );
  }
}

/**
 * Claims `key` for this request inside the caller's transaction. A concurrent claim of the same
 * key waits on the primary key until the first commits (then replays) or rolls back (then
 * claims). The request is compared by hash: the same key with a different request is refused.
 * Only completed work is recorded; a denial rolls the claim back, so a retry is judged afresh.
 */
export async function claimIdempotencyKey<R>(
  tx: EntityManager,
  organizationId: string,
  key: string,
  operation: string,
  request: unknown,
): Promise<Claim<R>> {
  const hash = requestHash(operation, request);
  let existing: { request_hash: string; response: R } | undefined;
  // A key past its retention window may be purged between the two statements: claim it again.
  while (!existing) {
    const inserted = await tx.execute(
      `insert into idempotency_keys (organization_id, key, operation, request_hash)
       values (?, ?, ?, ?) on conflict do nothing returning key`,
      [organizationId, key, operation, hash],
    );
    if (inserted.length > 0) return { kind: 'claimed' };
    [existing] = await tx.execute<Array<{ request_hash: string; response: R }>>(
      'select request_hash, response from idempotency_keys where organization_id = ? and key = ?',
      [organizationId, key],
    );
  }
  if (existing.request_hash !== hash) {
    throw new DomainError(
      UserErrorCode.IDEMPOTENCY_KEY_REUSED,
      'This idempotency key was already used for a different request',
      ['input', 'idempotencyKey'],
    );
  }
  return { kind: 'replay', response: existing.response };
}

export async function recordIdempotentResponse(
  tx: EntityManager,
  organizationId: string,
  key: string,
  response: unknown,
): Promise<void> {
  await tx.execute('update idempotency_keys set response = ?::jsonb where organization_id = ? and key = ?', [
    JSON.stringify(response),
    organizationId,
    key,
  ]);
}

export interface Answer {
  organizationId: string;
  key: string;
  operation: string;
  requestHash: string;
  response: unknown;
}

/**
 * The other way to keep a key: store the answer with the work, without a claim first (the
 * gateway decides a whole batch before it writes, and a claim would cost a round trip per
 * request). The statement returns the keys it stored: fewer than given means another request
 * answered one of them first, and the work must roll back and run again to replay that answer.
 * Sorted, so that writers claim keys in one order.
 */
export function storeAnswers(answers: Answer[]): Statement {
  const sorted = [...answers].sort((a, b) =>
    a.organizationId === b.organizationId ? (a.key < b.key ? -1 : 1) : a.organizationId < b.organizationId ? -1 : 1,
  );
  const rows = recordset(
    { organization_id: 'text', key: 'text', operation: 'text', request_hash: 'text', response: 'jsonb' },
    sorted.map((answer) => ({
      organization_id: answer.organizationId,
      key: answer.key,
      operation: answer.operation,
      request_hash: answer.requestHash,
      response: answer.response,
    })),
  );
  return sql`insert into idempotency_keys (organization_id, key, operation, request_hash, response)
         select organization_id, key, operation, request_hash, response from ${rows}
         on conflict do nothing
         returning key`;
}

/**
 * Deletes up to `limit` answers stored before `cutoff`, oldest first (through
 * idempotency_keys_created_idx), skipping rows another transaction holds; returns how many went.
 * A key deleted so is free again: a retry of it is judged afresh.
 */
export function purgeExpiredAnswers(cutoff: Date, limit: number): Statement {
  return sql`with expired as (
           select organization_id, key from idempotency_keys
            where created_at < ${cutoff.toISOString()}::timestamptz order by created_at limit ${limit}::int for update skip locked),
         purged as (
           delete from idempotency_keys k using expired e where k.organization_id = e.organization_id and k.key = e.key returning 1)
         select count(*)::int as purged from purged`;
}
