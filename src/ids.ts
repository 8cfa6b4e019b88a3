import { randomBytes } from 'node:crypto';

/** Every public id is a type prefix and 22 base62 characters (128 random bits). */
export const ID_PREFIXES = {
  organization: 'org',
  member: 'mem',
  accessToken: 'tok',
  workspace: 'ws',
  wallet: 'wal',
  project: 'prj',
  transaction: 'txn',
  apiKey: 'key',
  identity: 'idn',
  hold: 'hold',
  taxId: 'tax',
  purchase: 'pur',
  alert: 'alr',
  lowBalanceThreshold: 'lbt',
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function base62(bytes: Buffer): string {
  let value = BigInt(`0x${bytes.toString('hex')}`);
  let out = '';
  while (value > 0n) {
    out = BASE62[Number(value % 62n)] + out;
    value /= 62n;
  }
  return out;
}

/** Random base62 text of a fixed length. */
export function randomBase62(byteCount: number): string {
  const length = Math.ceil((byteCount * 8) / Math.log2(62));
  return base62(randomBytes(byteCount)).padStart(length, '0');
}

export function newId(kind: IdKind): string {
  return `${ID_PREFIXES[kind]}_${randomBase62(16)}`;
}

/**
 * Ids that sort in the order they are made (in byte order, as the ledger's id column collates),
 * for rows written together: random, but for a 4-character sequence at the end.
 */
export function idSequence(kind: IdKind): () => string {
  const stem = newId(kind).slice(0, -4);
  let next = 0;
  return () => {
    let n = next++;
    let suffix = '';
    for (let i = 0; i < 4; i += 1) {
      suffix = BASE62[n % 62] + suffix;
      n = Math.floor(n / 62);
    }
    return stem + suffix;
  };
}

const ID_SHAPE = /^([a-z]+)_([0-9A-Za-z]{22})$/;

/** The kind an id names, or null when it is not one of ours. */
export function idKind(id: string): IdKind | null {
  const match = ID_SHAPE.exec(id);
  if (!match) return null;
  const entry = Object.entries(ID_PREFIXES).find(([, prefix]) => prefix === match[1]);
  return entry ? (entry[0] as IdKind) : null;
}
