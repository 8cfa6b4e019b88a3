import { graphql, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { MoneyScalar } from '../src/graphql/money.scalar';
import { formatMoney, MAX_NANOS, parseMoney } from '../src/money';

describe('Money: decimal USD strings outside, nano-USD bigints inside', () => {
  it.each([
    ['25', 25_000_000_000n],
    ['12.5', 12_500_000_000n],
    ['12.50', 12_500_000_000n],
    ['0.000000001', 1n],
    ['0.00000125', 1_250n],
    ['-3.25', -3_250_000_000n],
    ['0', 0n],
    ['-0', 0n],
    ['9223372036.854775807', MAX_NANOS],
  ])('parses %j exactly', (text, nanos) => {
    expect(parseMoney(text)).toBe(nanos);
  });

  it.each([
    ['0.0000000001', /at most 9 fractional digits/],
    ['1e3', /decimal string/],
    ['NaN', /decimal string/],
    ['', /decimal string/],
    [' 1', /decimal string/],
    ['1.', /decimal string/],
    ['.5', /decimal string/],
    ['+5', /decimal string/],
    ['1,000', /decimal string/],
    ['Infinity', /decimal string/],
    ['9223372036.854775808', /out of range/],
    ['99999999999999999999', /out of range/],
  ])('rejects %j with a clear message', (text, message) => {
    expect(() => parseMoney(text)).toThrow(message);
  });

  it.each([
    [25_000_000_000n, '25'],
    [12_500_000_000n, '12.5'],
    [1_250n, '0.00000125'],
    [-3_250_000_000n, '-3.25'],
    [-1n, '-0.000000001'],
    [0n, '0'],
    [MAX_NANOS, '9223372036.854775807'],
  ])('formats %p canonically as %j', (nanos, text) => {
    expect(formatMoney(nanos)).toBe(text);
  });

  it('round-trips every canonical value', () => {
    for (const nanos of [1n, 10n, 999_999_999n, 1_000_000_001n, -123_456_789_012n]) {
      expect(parseMoney(formatMoney(nanos))).toBe(nanos);
    }
  });
});

describe('Money scalar in a GraphQL schema', () => {
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({
      name: 'Query',
      fields: {
        echo: {
          type: GraphQLString,
          args: { amount: { type: MoneyScalar } },
          resolve: (_root, { amount }: { amount: bigint }) => `${typeof amount}:${amount}`,
        },
        price: { type: MoneyScalar, resolve: () => 1_500_000_000n },
      },
    }),
  });

  it('serializes bigint nano-USD to a canonical string', async () => {
    const result = await graphql({ schema, source: '{ price }' });
    expect(result).toEqual({ data: { price: '1.5' } });
  });

  it('reads string literals and variables as bigint nano-USD', async () => {
    expect((await graphql({ schema, source: '{ echo(amount: "12.50") }' })).data).toEqual({ echo: 'bigint:12500000000' });
    const viaVariable = await graphql({ schema, source: 'query ($a: Money) { echo(amount: $a) }', variableValues: { a: '-0.1' } });
    expect(viaVariable.data).toEqual({ echo: 'bigint:-100000000' });
  });

  it.each([
    ['a JSON number variable', 'query ($a: Money) { echo(amount: $a) }', { a: 12.5 }, /not a number/],
    ['an over-precise string', 'query ($a: Money) { echo(amount: $a) }', { a: '0.0000000001' }, /at most 9 fractional digits/],
    ['an exponent', 'query ($a: Money) { echo(amount: $a) }', { a: '1e9' }, /decimal string/],
    ['a float literal', '{ echo(amount: 12.5) }', {}, /string literal/],
    ['an int literal', '{ echo(amount: 12) }', {}, /string literal/],
  ])('rejects %s', async (_label, source, variableValues, message) => {
    const result = await graphql({ schema, source, variableValues });
    expect(result.data?.echo ?? null).toBeNull();
    expect(result.errors?.[0].message).toMatch(message);
  });
});
