import { inline } from '../src/gateway/session';

describe('statements sent with their values inlined', () => {
  it('quotes strings by doubling quotes, and writes numbers, bigints, dates, booleans and null as literals', () => {
    expect(inline('select ?, ?, ?, ?, ?, ?', ["it's", 42, 7n, new Date('2026-01-02T03:04:05.006Z'), true, null])).toBe(
      "select 'it''s', 42, 7, '2026-01-02T03:04:05.006Z', true, null",
    );
  });

  it('leaves backslashes as they are (standard conforming strings) and cannot be broken out of', () => {
    expect(inline('select ?::text', ["\\'); drop table wallets; --"])).toBe("select '\\''); drop table wallets; --'::text");
  });

  it('refuses NUL, fractions and objects, and a count of values that does not match', () => {
    expect(() => inline('select ?', ['a\0b'])).toThrow(/NUL/);
    expect(() => inline('select ?', [1.5])).toThrow(/cannot inline/);
    expect(() => inline('select ?', [{}])).toThrow(/cannot inline/);
    expect(() => inline('select ?, ?', [1])).toThrow(/more placeholders/);
    expect(() => inline('select ?', [1, 2])).toThrow(/more parameters/);
  });
});
