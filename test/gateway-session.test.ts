import { batchDatabase, literal } from '../src/gateway/session';
import { recordset, textArray } from '../src/db/recordset';
import { useTestApp } from './support/app';

const app = useTestApp();

/** The gateway's own path: a transaction of prepared statements executed with literal arguments. */
function commitWith<T = Record<string, unknown>>(statement: string, params: unknown[]): Promise<T[]> {
  return batchDatabase(app.orm.em.getConnection().getKnex()).transaction((tx) => tx.commitWith<T>(statement, params));
}

describe('statements executed with literal arguments', () => {
  it('writes dollar-quoted strings, and numbers, bigints, dates, booleans and null as literals', () => {
    expect(["it's", 42, 7n, new Date('2026-01-02T03:04:05.006Z'), true, null].map(literal)).toEqual([
      "$tg$it's$tg$",
      '42',
      '7',
      '$tg$2026-01-02T03:04:05.006Z$tg$',
      'true',
      'null',
    ]);
  });

  it('picks a tag that the text does not contain, also across its end', () => {
    expect(literal('a $tg$ b')).toBe('$tg1$a $tg$ b$tg1$');
    expect(literal('ends in $tg')).toBe('$tg1$ends in $tg$tg1$');
  });

  it.each(["it's", "\\'); drop table wallets; --", 'back\\slash\\', "\\\\'' mixed ' \\ quotes", 'ünïcødé ✓ 😀', '$tg$', 'x$tg', '$tg$tg1$ $$ $'])(
    'reads back %j exactly from PostgreSQL',
    async (value) => {
      const [row] = await commitWith<{ at: string }>('select ?::text as value, ?::bigint as big, ?::timestamptz as at', [value, 2n ** 62n, new Date(1)]);
      expect(row).toEqual({ value, big: String(2n ** 62n), at: expect.any(String) });
      expect(new Date(row.at)).toEqual(new Date(1));
    },
  );

  it('refuses NUL, fractions and objects', () => {
    expect(() => literal('a\0b')).toThrow(/NUL/);
    expect(() => literal(1.5)).toThrow(/cannot inline/);
    expect(() => literal({})).toThrow(/cannot inline/);
  });

  it('rolls back a transaction whose statement fails, and the connection serves the next one', async () => {
    const statement = "select tollgate_expect(?::bigint = 1, 'expected one') as ok";
    await expect(commitWith(statement, [2])).rejects.toMatchObject({ code: 'TG001', message: 'expected one' });
    for (let i = 0; i < 12; i += 1) expect(await commitWith(statement, [1])).toEqual([{ ok: true }]);
  });
});

describe('rows sent as one array per column', () => {
  const tricky = ['plain', 'with space', 'NULL', '', 'a,b', '{braces}', 'quote " and \\ backslash', "it's", 'ünïcødé ✓ 😀', 'line\nbreak'];

  it('reads back every value, null and type exactly, inside the transaction or outside', async () => {
    const rows = tricky.map((text, i) => ({ text, amount: String(-(10n ** 18n) - BigInt(i)), maybe: i % 2 ? null : text, doc: { text, i } }));
    const set = recordset({ text: 'text', amount: 'bigint', maybe: 'text', doc: 'jsonb' }, rows);
    const statement = `select text, amount::text, maybe, doc from ${set.from}`;
    const expected = rows.map((row) => ({ ...row }));
    expect(await commitWith(statement, set.params)).toEqual(expected);
    expect(await batchDatabase(app.orm.em.getConnection().getKnex()).query(statement, set.params)).toEqual(expected);
  });

  it('reads back a list of ids', async () => {
    expect(await commitWith('select unnest(?::text[]) as id', [textArray(tricky)])).toEqual(tricky.map((id) => ({ id })));
  });
});

describe('a recordset column of whole numbers', () => {
  it('refuses anything else, so that no value can split into two elements', () => {
    expect(() => recordset({ amount: 'bigint' }, [{ amount: '1,2' }])).toThrow(/not a whole number/);
    expect(() => recordset({ amount: 'integer' }, [{ amount: 1.5 }])).toThrow(/not a whole number/);
  });
});
