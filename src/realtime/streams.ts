/**
 * Subscription streams. Each is an iterator whose `return()` ends it at once, even while a
 * `next()` waits (graphql-ws calls it when a client completes): async generators would queue
 * that call until the next event, which may never come for a quiet wallet.
 */

const DONE = { value: undefined, done: true } as IteratorReturnResult<undefined>;

function iterator<T>(next: () => Promise<IteratorResult<T>>, end: () => Promise<void>): AsyncIterableIterator<T> {
  return {
    next,
    async return() {
      await end();
      return DONE;
    },
    async throw(error?: unknown) {
      await end();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * `first` (if given), then the events of `source`, at most one per `windowMs`: what arrives
 * during a window, or while the client is still taking the last one, is merged into one
 * (latest wins) and sent when the window ends, so the last value always arrives.
 */
export function latestWithin<T>(source: AsyncIterableIterator<T>, windowMs: number, merge: (older: T, newer: T) => T, first?: T): AsyncIterableIterator<T> {
  let pending: { event: T } | null = first === undefined ? null : { event: first };
  let sentAt = -Infinity;
  let finished = false;
  let timer: NodeJS.Timeout | null = null;
  let waiting: ((result: IteratorResult<T>) => void) | null = null;

  const deliver = () => {
    if (!waiting) return;
    if (pending) {
      const wait = sentAt + windowMs - Date.now();
      if (wait > 0) {
        timer ??= setTimeout(() => {
          timer = null;
          deliver();
        }, wait);
        return;
      }
      const resolve = waiting;
      const { event } = pending;
      waiting = null;
      pending = null;
      sentAt = Date.now();
      resolve({ value: event, done: false });
    } else if (finished) {
      const resolve = waiting;
      waiting = null;
      resolve(DONE);
    }
  };

  void (async () => {
    try {
      for await (const event of source) {
        pending = pending ? { event: merge(pending.event, event) } : { event };
        deliver();
      }
    } catch {
      // A broken source ends the stream; the client sees it complete.
    } finally {
      finished = true;
      deliver();
    }
  })();

  return iterator(
    () =>
      new Promise((resolve) => {
        waiting = resolve;
        deliver();
      }),
    async () => {
      finished = true;
      pending = null;
      if (timer) clearTimeout(timer);
      deliver();
      await source.return?.();
    },
  );
}

/** Each event of `source` turned into any number of items (loaded, filtered), in order. */
export function flatMapEvents<E, T>(source: AsyncIterableIterator<E>, expand: (event: E) => Promise<T[]>): AsyncIterableIterator<T> {
  let buffered: T[] = [];
  return iterator(
    async () => {
      while (buffered.length === 0) {
        const result = await source.next();
        if (result.done) return DONE;
        buffered = await expand(result.value);
      }
      return { value: buffered.shift()!, done: false };
    },
    async () => {
      buffered = [];
      await source.return?.();
    },
  );
}
