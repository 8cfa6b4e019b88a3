import { inline } from '../src/gateway/session';
import { useTestApp } from './support/app';

const app = useTestApp();

describe('statements sent with their values inlined', () => {
  it('writes escape strings, and numbers, bigints, dates, booleans and null as literals', () => {
    expect(inline('select ?, ?, ?, ?, ?, ?', ["it's", 42, 7n, new Date('2026-01-02T03:04:05.006Z'), true, null])).toBe(
      "select E'it''s', 42, 7, E'2026-01-02T03:04:05.006Z', true, null",
    );
  });

  it.each(["it's", "\\'); drop table wallets; --", 'back\\slash\\', "\\\\'' mixed ' \\ quotes", 'ünïcødé ✓ 😀'])(
    'reads back %j exactly from PostgreSQL',
    async (value) => {
      const [row] = await app.orm.em.fork().execute(inline('select ?::text as value', [value]));
      expect(row.value).toBe(value);
    },
  );

  it('refuses NUL, fractions and objects, and a count of values that does not match', () => {
    expect(() => inline('select ?', ['a\0b'])).toThrow(/NUL/);
    expect(() => inline('select ?', [1.5])).toThrow(/cannot inline/);
    expect(() => inline('select ?', [{}])).toThrow(/cannot inline/);
    expect(() => inline('select ?, ?', [1])).toThrow(/more placeholders/);
    expect(() => inline('select ?', [1, 2])).toThrow(/more parameters/);
  });
});
