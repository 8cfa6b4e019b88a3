import { randomBytes } from 'node:crypto';
import type { EntityClass } from '@mikro-orm/core';
import { AccessToken, Alert, ApiKey, Hold, Identity, LowBalanceThreshold, Member, NegotiatedPrice, Organization, Project, Purchase, TaxId, Transaction, Wallet, Workspace } from '../entities';
import { MalformedInputError } from './errors';

/**
 * Every kind of object with a public id, in one table: the prefix of its ids (a type prefix and
 * 22 base62 characters, 128 random bits), the GraphQL type it is a `Node` of, and its entity.
 * Entities are named through a function: they import this module for their ids.
 */
export const ID_KINDS = {
  organization: { prefix: 'org', typeName: 'Organization', entity: () => Organization },
  member: { prefix: 'mem', typeName: 'Member', entity: () => Member },
  accessToken: { prefix: 'tok', typeName: 'AccessToken', entity: () => AccessToken },
  workspace: { prefix: 'ws', typeName: 'Workspace', entity: () => Workspace },
  wallet: { prefix: 'wal', typeName: 'Wallet', entity: () => Wallet },
  project: { prefix: 'prj', typeName: 'Project', entity: () => Project },
  transaction: { prefix: 'txn', typeName: 'Transaction', entity: () => Transaction },
  apiKey: { prefix: 'key', typeName: 'ApiKey', entity: () => ApiKey },
  identity: { prefix: 'idn', typeName: 'Identity', entity: () => Identity },
  hold: { prefix: 'hold', typeName: 'GatewayHold', entity: () => Hold },
  taxId: { prefix: 'tax', typeName: 'TaxId', entity: () => TaxId },
  purchase: { prefix: 'pur', typeName: 'Purchase', entity: () => Purchase },
  alert: { prefix: 'alr', typeName: 'Alert', entity: () => Alert },
  lowBalanceThreshold: { prefix: 'lbt', typeName: 'LowBalanceThreshold', entity: () => LowBalanceThreshold },
  negotiatedPrice: { prefix: 'npr', typeName: 'NegotiatedPrice', entity: () => NegotiatedPrice },
} as const satisfies Record<string, { prefix: string; typeName: string; entity: () => EntityClass<{ id: string }> }>;

export type IdKind = keyof typeof ID_KINDS;

export const ID_PREFIXES = Object.fromEntries(Object.entries(ID_KINDS).map(([kind, { prefix }]) => [kind, prefix])) as { [K in IdKind]: (typeof ID_KINDS)[K]['prefix'] };

const KIND_OF_PREFIX = new Map(Object.entries(ID_PREFIXES).map(([kind, prefix]) => [prefix as string, kind as IdKind]));

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
  return match ? (KIND_OF_PREFIX.get(match[1]) ?? null) : null;
}

/** Checks that an input id names the expected kind of object, before any work is done. */
export function parseId(kind: IdKind, value: string, argument: string): string {
  if (idKind(value) !== kind) throw new MalformedInputError(`${argument}: "${value.slice(0, 80)}" is not a valid ${ID_PREFIXES[kind]}_… id`);
  return value;
}

/** Each id of a list argument, as `parseId` does (null stays null). */
export function parseIds(kind: IdKind, values: string[] | null | undefined, argument: string): string[] | null | undefined {
  return values?.map((value, i) => parseId(kind, value, `${argument}[${i}]`));
}
