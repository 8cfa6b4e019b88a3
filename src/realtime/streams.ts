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
 *
 * `first` is read once `source` listens (its first pull attaches it to the bus), so that nothing
 * committed meanwhile is lost: an event that arrives before it is merged on top of it (events
 * come in commit order, so the last one sent is the latest state either way).
 */
export function latestWithin<T>(
  source: AsyncIterableIterator<T>,
  windowMs: number,
  merge: (older: T, newer: T) => T,
  first?: () => Promise<T>,
): AsyncIterableIterator<T> {
  let pending: { event: T } | null = null;
  /** Until `first` is read: nothing is sent, events wait in `pending`. */
  let reading = first !== undefined;
  let sentAt = -Infinity;
  let finished = false;
  let timer: NodeJS.Timeout | null = null;
  let waiting: { resolve(result: IteratorResult<T>): void; reject(error: unknown): void } | null = null;
  /** `first` could not be read: the client is answered with the error, as if the subscription had failed to start. */
  let failure: { error: unknown } | null = null;

  const deliver = () => {
    if (!waiting || reading) return;
    if (failure) {
      const { reject } = waiting;
      waiting = null;
      reject(failure.error);
    } else if (pending) {
      const wait = sentAt + windowMs - Date.now();
      if (wait > 0) {
        timer ??= setTimeout(() => {
          timer = null;
          deliver();
        }, wait);
        return;
      }
      const { resolve } = waiting;
      const { event } = pending;
      waiting = null;
      pending = null;
      sentAt = Date.now();
      resolve({ value: event, done: false });
    } else if (finished) {
      const { resolve } = waiting;
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
  // The loop above has pulled once, synchronously: the source listens before `first` is read.
  if (first) {
    void first()
      .then((event) => {
        pending = pending ? { event: merge(event, pending.event) } : { event };
      })
      .catch((error: unknown) => {
        failure = { error };
        void source.return?.();
      })
      .finally(() => {
        reading = false;
        deliver();
      });
  }

  return iterator(
    () =>
      new Promise((resolve, reject) => {
        waiting = { resolve, reject };
        deliver();
      }),
    async () => {
      finished = true;
      reading = false;
      failure = null;
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
