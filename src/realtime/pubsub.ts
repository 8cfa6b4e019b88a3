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
  /** What active gateway holds reserve; the available balance is `balance - held + creditLimit`. */
  held: bigint;
  /** The organization's credit line (0: none). */
  creditLimit: bigint;
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

/** Access taken away: these tokens revoked, or all tokens of these members (removed). */
export interface AccessRevokedEvent {
  tokenIds: string[];
  memberIds: string[];
}

/** Revocations concern every replica's open connections: one key for all. */
export const EVERY_REPLICA = '*';

export const TOPICS = {
  walletBalanceChanged: 'WALLET_BALANCE_CHANGED',
  transactionRecorded: 'TRANSACTION_RECORDED',
  autoTopUp: 'AUTO_TOP_UP',
  /** Keyed by organization. */
  lowBalanceAlert: 'LOW_BALANCE_ALERT',
  /** Keyed by EVERY_REPLICA. */
  accessRevoked: 'ACCESS_REVOKED',
} as const;

interface Payloads {
  [TOPICS.walletBalanceChanged]: WalletBalanceEvent;
  [TOPICS.transactionRecorded]: TransactionsRecordedEvent;
  [TOPICS.autoTopUp]: AutoTopUpEvent;
  [TOPICS.lowBalanceAlert]: LowBalanceAlertEvent;
  [TOPICS.accessRevoked]: AccessRevokedEvent;
}

export type Topic = keyof Payloads;

/** Redis as a bus through it sees it: not yet tried, reachable, or away (being retried). */
export type RedisState = 'connecting' | 'connected' | 'unavailable';

/**
 * Events for subscribers, published only after the transaction that caused them commits. A
 * publish never throws and never waits: an event that cannot be sent (Redis down) is dropped and
 * counted, and the debit that caused it is unaffected.
 */
export interface EventBus {
  publish<T extends Topic>(topic: T, key: string, event: Payloads[T]): void;
  /** The events of `topic` for `key` from now on, until returned. */
  subscribe<T extends Topic>(topic: T, key: string): AsyncIterableIterator<Payloads[T]>;
  /** The state of Redis for a bus through it; undefined for the in-process bus. */
  redisState(): RedisState | undefined;
  close(): Promise<void>;
}

/** In-process pub/sub: subscribers see what this process publishes. */
export function createEventBus(): EventBus {
  // Keyed topics, typed by the EventBus interface above.
  const pubSub = createPubSub<Record<string, [key: string, event: unknown]>>();
  return {
    publish: (topic, key, event) => pubSub.publish(topic, key, event),
    subscribe: (topic, key) => pubSub.subscribe(topic, key) as AsyncIterableIterator<never>,
    redisState: () => undefined,
    close: async () => undefined,
  };
}

export interface BusObserver {
  /** An event handed to a subscription of this process, `seconds` after it was published. */
  lag(topic: Topic, seconds: number): void;
  /** A subscription began listening (+1) or stopped (-1). */
  listening(topic: Topic, change: 1 | -1): void;
}

/** `source`, telling `observer` when it starts listening (its first pull attaches it to the bus) and when it ends. */
function watchedSubscription<T>(source: AsyncIterableIterator<T>, topic: Topic, observer: BusObserver): AsyncIterableIterator<T> {
  let state: 'idle' | 'listening' | 'ended' = 'idle';
  const end = () => {
    if (state === 'listening') observer.listening(topic, -1);
    state = 'ended';
  };
  return {
    async next() {
      const result = source.next();
      if (state === 'idle') {
        state = 'listening';
        observer.listening(topic, 1);
      }
      const settled = await result.catch((error) => {
        end();
        throw error;
      });
      if (settled.done) end();
      return settled;
    },
    async return(value?: unknown) {
      end();
      return (await source.return?.(value)) ?? { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * `bus`, with each event stamped when published and timed when handed to a subscription of
 * this process (across processes, the lag includes the clocks' difference), and the
 * subscriptions listening counted.
 */
export function measuredBus(bus: EventBus, observer: BusObserver): EventBus {
  return {
    publish: (topic, key, event) => bus.publish(topic, key, { ...event, publishedAtMs: Date.now() }),
    subscribe: (topic, key) =>
      flatMapEvents(watchedSubscription(bus.subscribe(topic, key), topic, observer), async (stamped) => {
        const { publishedAtMs, ...event } = stamped as typeof stamped & { publishedAtMs?: number };
        if (typeof publishedAtMs === 'number') observer.lag(topic, Math.max(0, Date.now() - publishedAtMs) / 1000);
        return [event as typeof stamped];
      }),
    redisState: () => bus.redisState(),
    close: () => bus.close(),
  };
}

/** JSON with bigints kept exact, as `{ "$bigint": "…" }`. */
const serialize = (value: unknown) => JSON.stringify(value, (_key, item) => (typeof item === 'bigint' ? { $bigint: item.toString() } : item));
const deserialize = (text: string | Buffer) =>
  JSON.parse(text.toString(), (_key, item) => (item !== null && typeof item === 'object' && typeof item.$bigint === 'string' ? BigInt(item.$bigint) : item));

/** How long start-up waits for the first attempt to reach Redis (a host that does not answer at all). */
const REDIS_FIRST_ATTEMPT_TIMEOUT_MS = 5000;

/**
 * Follows the state of Redis through its connections, which ioredis reconnects by itself (its
 * default backoff: 50 ms more per attempt, at most 2 s), and logs each change once: an absent or
 * flapping Redis gives a line per change, not one per retry.
 */
function followRedis(clients: Redis[], logger: Logger) {
  let state: RedisState = 'connecting';
  let wasConnected = false;
  let lastError: string | undefined;
  let droppedEvents = 0;
  let publishFailureLogged = false;
  let closing = false;
  let firstAttemptDone!: () => void;
  const firstAttempt = new Promise<void>((resolve) => (firstAttemptDone = resolve));
  const allReady = () => clients.every((client) => client.status === 'ready');

  const connected = () => {
    if (closing || state === 'connected' || !allReady()) return;
    const message = wasConnected ? 'Redis is back: live events flow again' : 'Redis connected: live events reach subscribers on every replica';
    logger.info(state === 'unavailable' ? { droppedEvents } : {}, message);
    state = 'connected';
    wasConnected = true;
    lastError = undefined;
    droppedEvents = 0;
    publishFailureLogged = false;
    firstAttemptDone();
  };
  const away = () => {
    if (closing || state === 'unavailable' || allReady()) return;
    const message =
      state === 'connecting'
        ? 'Redis unreachable at start: serving without live events until it is up; retrying'
        : 'Redis connection lost: live events are dropped until it is back; retrying';
    logger.warn({ reason: lastError }, message);
    state = 'unavailable';
    firstAttemptDone();
  };
  for (const client of clients) {
    client.on('ready', connected);
    client.on('close', away);
    client.on('error', (error: Error) => {
      lastError = error.message;
      away();
    });
  }
  return {
    state: () => state,
    firstAttempt,
    /** An event not sent as Redis is away: counted, for the line that says it is back. */
    droppedWhileAway() {
      droppedEvents += 1;
    },
    /** An event whose publishing failed while connected: counted, and the first one logged. */
    publishFailed(error: unknown, detail: object) {
      droppedEvents += 1;
      if (publishFailureLogged) return;
      publishFailureLogged = true;
      logger.warn({ err: error, ...detail }, 'event not published (further failures until Redis reconnects are counted, not logged)');
    },
    close() {
      closing = true;
    },
  };
}

/**
 * Redis pub/sub, so that a subscriber on one instance receives events caused on another. Start-up
 * does not need Redis: an absent one is retried until it is there. The publishing connection does
 * not queue while Redis is away (events are dropped, not piled up in memory); the subscribing one
 * keeps subscriptions made meanwhile until it connects, and subscribes again after a reconnect.
 */
export async function createRedisEventBus(url: string, logger: Logger): Promise<EventBus> {
  const publisher = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  // Without a limit, a subscription made while Redis is away waits for it; with ioredis's default it
  // would fail after 20 retries (~10 s), a rejection graphql-redis-subscriptions leaves unhandled.
  const subscriber = new Redis(url, { maxRetriesPerRequest: null });
  const redis = followRedis([publisher, subscriber], logger);
  // Waits for the first answer, so that a replica that starts with Redis up publishes at once.
  await Promise.race([redis.firstAttempt, new Promise((resolve) => setTimeout(resolve, REDIS_FIRST_ATTEMPT_TIMEOUT_MS).unref())]);
  const pubSub = new RedisPubSub({ publisher, subscriber, serializer: serialize, deserializer: deserialize });
  const channel = (topic: Topic, key: string) => `tollgate:${topic}:${key}`;
  return {
    publish(topic, key, event) {
      if (publisher.status !== 'ready') return redis.droppedWhileAway();
      pubSub.publish(channel(topic, key), event).catch((error) => redis.publishFailed(error, { topic, key }));
    },
    subscribe: (topic, key) => pubSub.asyncIterableIterator(channel(topic, key)),
    redisState: () => redis.state(),
    async close() {
      redis.close();
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
