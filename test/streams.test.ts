import { latestWithin } from '../src/realtime/streams';

/** Subscription streams, in memory: no server, no bus. */

/** An event source the test feeds; it counts its pulls (a pull is what attaches a subscription to the bus). */
function source<T>() {
  const queue: T[] = [];
  let wake: (() => void) | null = null;
  let pulls = 0;
  let ended = false;
  const events: AsyncIterableIterator<T> = {
    async next() {
      pulls += 1;
      while (queue.length === 0) {
        if (ended) return { value: undefined, done: true };
        await new Promise<void>((resolve) => (wake = resolve));
      }
      return { value: queue.shift()!, done: false };
    },
    async return() {
      ended = true;
      wake?.();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return {
    events,
    push(event: T) {
      queue.push(event);
      wake?.();
    },
    pulls: () => pulls,
    ended: () => ended,
  };
}

interface Balance {
  balance: number;
  change: number;
}
const merge = (older: Balance, newer: Balance) => ({ ...newer, change: older.change + newer.change });

describe('a stream that starts from a value read at subscription', () => {
  it('listens before the value is read, and sends an event that arrived meanwhile on top of it', async () => {
    const feed = source<Balance>();
    let pullsWhenRead = -1;
    let read!: (value: Balance) => void;
    const stream = latestWithin(feed.events, 0, merge, () => {
      pullsWhenRead = feed.pulls();
      return new Promise<Balance>((resolve) => (read = resolve));
    });
    expect(pullsWhenRead).toBe(1);
    const first = stream.next();
    feed.push({ balance: 90, change: -10 });
    read({ balance: 100, change: 0 });
    expect(await first).toEqual({ value: { balance: 90, change: -10 }, done: false });
    feed.push({ balance: 80, change: -10 });
    expect(await stream.next()).toEqual({ value: { balance: 80, change: -10 }, done: false });
    await stream.return?.();
    expect(feed.ended()).toBe(true);
  });

  it('sends the value read first when nothing happened meanwhile', async () => {
    const feed = source<Balance>();
    const stream = latestWithin(feed.events, 0, merge, async () => ({ balance: 100, change: 0 }));
    expect(await stream.next()).toEqual({ value: { balance: 100, change: 0 }, done: false });
    await stream.return?.();
  });

  it('fails, and stops listening, when the value cannot be read', async () => {
    const feed = source<Balance>();
    const stream = latestWithin(feed.events, 0, merge, () => Promise.reject(new Error('database unreachable')));
    await expect(stream.next()).rejects.toThrow('database unreachable');
    expect(feed.ended()).toBe(true);
  });
});
