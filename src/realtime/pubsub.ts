import { once } from 'node:events';
import { createPubSub } from '@graphql-yoga/subscription';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import Redis from 'ioredis';
import type { Logger } from '../logger';
import { flatMapEvents } from './streams';

/** A committed change of a wallet's balance: the last of the changes one commit made to it. */
export interface WalletBalanceEvent {
  walletId: string;
  organizationId: string;
  balance: bigint;
  /** What active gateway holds reserve; the available balance is `balance - held`. */
  held: bigint;
  change: bigint;
  /** Null for the state a subscription starts from. */
  transactionId: string | null;
}

/** The ledger rows one commit added to a wallet, in order. */
export interface TransactionsRecordedEvent {
  walletId: string;
  transactions: Array<{ id: string; type: string }>;
}

export enum AutoTopUpEventKind {
  STARTED = 'STARTED',
  SUCCEEDED = 'SUCCEEDED',
  /** An attempt was declined (tried again unless `disabled` follows), or the top-up could not be made. */
  FAILED = 'FAILED',
  /** Auto top-up turned itself off. */
  DISABLED = 'DISABLED',
}

/** A step of a wallet's auto top-up. */
export interface AutoTopUpEvent {
  walletId: string;
  purchaseId: string;
  kind: AutoTopUpEventKind;
  attempt: number;
  reason: string | null;
}

/** A low-balance alert that was stored, with whom it is for (the rest is read from the alert). */
export interface LowBalanceAlertEvent {
  alertId: string;
  organizationId: string;
  walletId: string;
  recipientMemberIds: string[];
}

export const TOPICS = {
  walletBalanceChanged: 'WALLET_BALANCE_CHANGED',
  transactionRecorded: 'TRANSACTION_RECORDED',
  autoTopUp: 'AUTO_TOP_UP',
  /** Keyed by organization. */
  lowBalanceAlert: 'LOW_BALANCE_ALERT',
} as const;

interface Payloads {
  [TOPICS.walletBalanceChanged]: WalletBalanceEvent;
  [TOPICS.transactionRecorded]: TransactionsRecordedEvent;
  [TOPICS.autoTopUp]: AutoTopUpEvent;
  [TOPICS.lowBalanceAlert]: LowBalanceAlertEvent;
}

export type Topic = keyof Payloads;

/**
 * Events for subscribers, published only after the transaction that caused them commits. A
 * publish never throws and never waits: an event that cannot be sent (Redis down) is logged and
 * dropped, and the debit that caused it is unaffected.
 */
export interface EventBus {
  publish<T extends Topic>(topic: T, key: string, event: Payloads[T]): void;
  /** The events of `topic` for `key` from now on, until returned. */
  subscribe<T extends Topic>(topic: T, key: string): AsyncIterableIterator<Payloads[T]>;
  close(): Promise<void>;
}

/** In-process pub/sub: subscribers see what this process publishes. */
export function createEventBus(): EventBus {
  // Keyed topics, typed by the EventBus interface above.
  const pubSub = createPubSub<Record<string, [key: string, event: unknown]>>();
  return {
    publish: (topic, key, event) => pubSub.publish(topic, key, event),
    subscribe: (topic, key) => pubSub.subscribe(topic, key) as AsyncIterableIterator<never>,
    close: async () => undefined,
  };
}

/**
 * `bus`, with each event stamped when published and timed when handed to a subscription of
 * this process (across processes, the lag includes the clocks' difference).
 */
export function measuredBus(bus: EventBus, observe: (topic: Topic, seconds: number) => void): EventBus {
  return {
    publish: (topic, key, event) => bus.publish(topic, key, { ...event, publishedAtMs: Date.now() }),
    subscribe: (topic, key) =>
      flatMapEvents(bus.subscribe(topic, key), async (stamped) => {
        const { publishedAtMs, ...event } = stamped as typeof stamped & { publishedAtMs?: number };
        if (typeof publishedAtMs === 'number') observe(topic, Math.max(0, Date.now() - publishedAtMs) / 1000);
        return [event as typeof stamped];
      }),
    close: () => bus.close(),
  };
}

/** JSON with bigints kept exact, as `{ "$bigint": "…" }`. */
const serialize = (value: unknown) => JSON.stringify(value, (_key, item) => (typeof item === 'bigint' ? { $bigint: item.toString() } : item));
const deserialize = (text: string | Buffer) =>
  JSON.parse(text.toString(), (_key, item) => (item !== null && typeof item === 'object' && typeof item.$bigint === 'string' ? BigInt(item.$bigint) : item));

/** How long start-up waits for Redis before serving anyway (events then flow once it is up). */
const REDIS_READY_TIMEOUT_MS = 5000;

/**
 * Redis pub/sub, so that a subscriber on one instance receives events caused on another. The
 * publishing connection does not queue while Redis is away (events are dropped, not piled up in
 * memory); the subscribing one reconnects and subscribes again by itself.
 */
export async function createRedisEventBus(url: string, logger: Logger): Promise<EventBus> {
  const publisher = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  const subscriber = new Redis(url);
  for (const [role, client] of [['publisher', publisher], ['subscriber', subscriber]] as const) {
    client.on('error', (error) => logger.warn({ err: error, role }, 'Redis connection error'));
  }
  await Promise.race([
    Promise.all([once(publisher, 'ready'), once(subscriber, 'ready')]),
    new Promise((resolve) => setTimeout(resolve, REDIS_READY_TIMEOUT_MS).unref()),
  ]);
  const pubSub = new RedisPubSub({ publisher, subscriber, serializer: serialize, deserializer: deserialize });
  const channel = (topic: Topic, key: string) => `tollgate:${topic}:${key}`;
  return {
    publish(topic, key, event) {
      pubSub.publish(channel(topic, key), event).catch((error) => logger.warn({ err: error, topic, key }, 'event not published'));
    },
    subscribe: (topic, key) => pubSub.asyncIterableIterator(channel(topic, key)),
    async close() {
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
