import { DEMO_MODEL_PRICES } from '../src/demo/catalog';
import { demoHistory, seededRandom } from '../src/demo/history';
import { DEMO_TRAFFIC } from '../src/demo/seed';

const FROM = new Date('2026-10-29T09:41:00Z');
const TO = new Date('2026-11-28T09:41:00Z');
const history = (seed = 7) => demoHistory(DEMO_TRAFFIC, FROM, TO, seededRandom(seed));

describe('the demo history', () => {
  const calls = history();

  it('is the same for the same seed, and another for another', () => {
    expect(history(7)).toEqual(calls);
    expect(history(8)).not.toEqual(calls);
  });

  it('lies inside the window, in time order, with one moment per hour', () => {
    expect(calls.every((call) => call.at > FROM && call.at < TO)).toBe(true);
    expect(calls.map((call) => call.at.getTime())).toEqual(calls.map((call) => call.at.getTime()).sort((a, b) => a - b));
    const moments = new Set(calls.map((call) => call.at.getTime()));
    const hours = new Set(calls.map((call) => Math.floor(call.at.getTime() / 3_600_000)));
    expect(moments.size).toBe(hours.size);
  });

  it('uses priced models, every profile, and tokens within each profile’s bounds', () => {
    const priced = new Set<string>(DEMO_MODEL_PRICES.map((price) => price.model));
    expect(calls.every((call) => priced.has(call.model))).toBe(true);
    for (const profile of DEMO_TRAFFIC) {
      const own = calls.filter((call) => call.profile === profile.name);
      expect(own.length).toBeGreaterThan(100);
      expect(new Set(own.map((call) => call.model)).size).toBe(profile.models.length);
      const input = (call: (typeof own)[number]) => call.inputTokens + call.cachedInputTokens;
      expect(own.every((call) => input(call) >= profile.inputTokens[0] && input(call) <= profile.inputTokens[1])).toBe(true);
      // The profile's share of each call's input is read from the cache; every call is routed the profile's way.
      expect(own.every((call) => call.cachedInputTokens === BigInt(Math.floor(Number(input(call)) * profile.cachedShare)))).toBe(true);
      expect(own.every((call) => call.routingMode === profile.routingMode)).toBe(true);
      expect(own.every((call) => call.outputTokens >= profile.outputTokens[0] && call.outputTokens <= profile.outputTokens[1])).toBe(true);
      expect(own.every((call) => (call.identity === null) === (profile.identities === null))).toBe(true);
    }
  });

  it('has a daily and weekly rhythm: chat by day and on weekdays, indexing at night, evaluations on weekday afternoons', () => {
    const of = (name: string) => calls.filter((call) => call.profile === name);
    const weekday = (at: Date) => at.getUTCDay() % 6 !== 0;
    const perDay = (list: typeof calls, onWeekdays: boolean) =>
      list.filter((call) => weekday(call.at) === onWeekdays).length / new Set(list.filter((call) => weekday(call.at) === onWeekdays).map((call) => call.at.toISOString().slice(0, 10))).size;

    const chat = of('Chat backend');
    expect(perDay(chat, true)).toBeGreaterThan(1.5 * perDay(chat, false));
    const evening = chat.filter((call) => call.at.getUTCHours() >= 13 && call.at.getUTCHours() < 23).length / 10;
    const night = chat.filter((call) => call.at.getUTCHours() < 7).length / 7;
    expect(evening).toBeGreaterThan(4 * night);

    const indexing = of('Search indexer');
    expect(indexing.filter((call) => call.at.getUTCHours() >= 1 && call.at.getUTCHours() < 5).length).toBeGreaterThan(0.9 * indexing.length);

    expect(of('Eval runner').every((call) => weekday(call.at) && call.at.getUTCHours() >= 14 && call.at.getUTCHours() < 18)).toBe(true);
  });
});
