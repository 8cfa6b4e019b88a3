import { inline } from '../src/gateway/session';
import { recordset, textArray } from '../src/gateway/recordset';
import { useTestApp } from './support/app';

const app = useTestApp();

describe('statements sent with their values inlined', () => {
  it('writes dollar-quoted strings, and numbers, bigints, dates, booleans and null as literals', () => {
    expect(inline('select ?, ?, ?, ?, ?, ?', ["it's", 42, 7n, new Date('2026-01-02T03:04:05.006Z'), true, null])).toBe(
      "select $tg$it's$tg$, 42, 7, $tg$2026-01-02T03:04:05.006Z$tg$, true, null",
    );
  });

  it('picks a tag that the text does not contain, also across its end', () => {
    expect(inline('select ?', ['a $tg$ b'])).toBe('select $tg1$a $tg$ b$tg1$');
    expect(inline('select ?', ['ends in $tg'])).toBe('select $tg1$ends in $tg$tg1$');
  });

  it.each(["it's", "\\'); drop table wallets; --", 'back\\slash\\', "\\\\'' mixed ' \\ quotes", 'ünïcødé ✓ 😀', '$tg$', 'x$tg', '$tg$tg1$ $$ $'])(
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

describe('rows sent as one array per column', () => {
  const tricky = ['plain', 'with space', 'NULL', '', 'a,b', '{braces}', 'quote " and \\ backslash', "it's", 'ünïcødé ✓ 😀', 'line\nbreak'];

  it('reads back every value, null and type exactly, inlined or as a parameter', async () => {
    const rows = tricky.map((text, i) => ({ text, amount: String(-(10n ** 18n) - BigInt(i)), maybe: i % 2 ? null : text, doc: { text, i } }));
    const set = recordset({ text: 'text', amount: 'bigint', maybe: 'text', doc: 'jsonb' }, rows);
    const statement = `select text, amount::text, maybe, doc from ${set.from}`;
    const expected = rows.map((row) => ({ ...row }));
    expect(await app.orm.em.fork().execute(inline(statement, set.params))).toEqual(expected);
    expect(await app.orm.em.fork().execute(statement, set.params)).toEqual(expected);
  });

  it('reads back a list of ids', async () => {
    expect(await app.orm.em.fork().execute(inline('select unnest(?::text[]) as id', [textArray(tricky)]))).toEqual(tricky.map((id) => ({ id })));
  });
});
