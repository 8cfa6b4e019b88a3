import type { RoutingMode } from '../gateway/contract';
import type { DemoModel } from './catalog';

/** One model call of the demo's past, as the gateway would have reported it. */
export interface DemoCall {
  at: Date;
  /** The name of the traffic profile (one API key) that made it. */
  profile: string;
  model: DemoModel;
  routingMode: RoutingMode;
  identity: string | null;
  /** The input not read from the cache; with `cachedInputTokens`, the call's whole input. */
  inputTokens: bigint;
  cachedInputTokens: bigint;
  outputTokens: bigint;
}

/** How one API key of the demo is used. */
export interface TrafficProfile {
  name: string;
  /** Models and their shares of the calls. */
  models: ReadonlyArray<readonly [DemoModel, number]>;
  /** End users and their shares of the calls; null when the key calls on its own behalf. */
  identities: ReadonlyArray<readonly [string, number]> | null;
  routingMode: RoutingMode;
  /** Tokens per call, drawn log-uniformly between the bounds (input: cached and not). */
  inputTokens: readonly [number, number];
  /** The share of a call's input read from the provider's cache (a conversation's context). */
  cachedShare: number;
  outputTokens: readonly [number, number];
  /** Mean calls in an hour, by the UTC hour of the day and whether it is a weekday. */
  callsPerHour(hourOfDay: number, weekday: boolean): number;
}

const HOUR_MS = 3_600_000;

/** A small seeded generator (mulberry32): the same seed gives the same history. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function pick<T>(random: () => number, weighted: ReadonlyArray<readonly [T, number]>): T {
  const total = weighted.reduce((sum, [, weight]) => sum + weight, 0);
  let point = random() * total;
  for (const [value, weight] of weighted) {
    point -= weight;
    if (point < 0) return value;
  }
  return weighted[weighted.length - 1][0];
}

/** Knuth's method: fine for the small means of an hour of demo traffic. */
function poisson(random: () => number, mean: number): number {
  const limit = Math.exp(-mean);
  let count = 0;
  for (let product = random(); product > limit; product *= random()) count += 1;
  return count;
}

function logUniform(random: () => number, [low, high]: readonly [number, number]): bigint {
  return BigInt(Math.round(low * Math.pow(high / low, random())));
}

/**
 * The calls the profiles made in [from, to), hour by hour with their daily and weekly rhythm,
 * in time order. The calls of an hour share one moment of it, as one group commit (the demo
 * is seeded on first start, where every commit of the embedded database counts).
 */
export function demoHistory(profiles: readonly TrafficProfile[], from: Date, to: Date, random: () => number): DemoCall[] {
  const calls: DemoCall[] = [];
  const firstHour = Math.floor(from.getTime() / HOUR_MS) * HOUR_MS;
  for (let hour = firstHour; hour < to.getTime(); hour += HOUR_MS) {
    const start = new Date(hour);
    const weekday = start.getUTCDay() % 6 !== 0;
    const at = new Date(hour + Math.floor(random() * HOUR_MS));
    if (at <= from || at >= to) continue;
    for (const profile of profiles) {
      const count = poisson(random, profile.callsPerHour(start.getUTCHours(), weekday));
      for (let i = 0; i < count; i += 1) {
        const model = pick(random, profile.models);
        const identity = profile.identities ? pick(random, profile.identities) : null;
        const input = logUniform(random, profile.inputTokens);
        const cachedInputTokens = BigInt(Math.floor(Number(input) * profile.cachedShare));
        calls.push({
          at,
          profile: profile.name,
          model,
          routingMode: profile.routingMode,
          identity,
          inputTokens: input - cachedInputTokens,
          cachedInputTokens,
          outputTokens: logUniform(random, profile.outputTokens),
        });
      }
    }
  }
  return calls;
}
