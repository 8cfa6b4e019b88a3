import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { DomainError, UserErrorCode } from './errors';

export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

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
  const requestHash = createHash('sha256').update(JSON.stringify({ operation, request })).digest('hex');
  const inserted = await tx.execute(
    `insert into idempotency_keys (organization_id, key, operation, request_hash)
     values (?, ?, ?, ?) on conflict do nothing returning key`,
    [organizationId, key, operation, requestHash],
  );
  if (inserted.length > 0) return { kind: 'claimed' };
  const [existing] = await tx.execute<Array<{ request_hash: string; response: R }>>(
    'select request_hash, response from idempotency_keys where organization_id = ? and key = ?',
    [organizationId, key],
  );
  if (existing.request_hash !== requestHash) {
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
