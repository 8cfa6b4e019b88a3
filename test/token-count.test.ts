import { graphql, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { CountScalar, MAX_COUNT, parseCount, TokenCountScalar } from '../src/graphql/count.scalar';

const parseTokenCount = (text: string) => parseCount(text, 'TokenCount');

describe('TokenCount: decimal strings of digits outside, bigints inside', () => {
  it.each([
    ['0', 0n],
    ['1', 1n],
    ['150000', 150_000n],
    ['2147483648', 2_147_483_648n],
    ['007', 7n],
    ['-0', 0n],
    ['9223372036854775807', MAX_COUNT],
    ['0009223372036854775807', MAX_COUNT],
  ])('parses %j exactly', (text, count) => {
    expect(parseTokenCount(text)).toBe(count);
  });

  it.each([
    ['-1', /cannot be negative/],
    ['-9223372036854775807', /cannot be negative/],
    ['1.5', /whole number/],
    ['10.0', /whole number/],
    ['.5', /whole number/],
    ['1e6', /whole number/],
    ['', /string of digits/],
    [' 1', /string of digits/],
    ['+5', /string of digits/],
    ['1,000', /string of digits/],
    ['0x10', /string of digits/],
    ['NaN', /string of digits/],
    ['9223372036854775808', /at most 9223372036854775807/],
    ['99999999999999999999999', /at most 9223372036854775807/],
  ])('rejects %j with a clear message', (text, message) => {
    expect(() => parseTokenCount(text)).toThrow(message);
  });

  it('rejects a string of 100,000 digits without echoing it whole', () => {
    const huge = '9'.repeat(100_000);
    expect(() => parseTokenCount(huge)).toThrow(/at most 9223372036854775807 \(got "9{40}…"\)$/);
  });
});

describe('TokenCount scalar in a GraphQL schema', () => {
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({
      name: 'Query',
      fields: {
        echo: {
          type: GraphQLString,
          args: { tokens: { type: TokenCountScalar } },
          resolve: (_root, { tokens }: { tokens: bigint }) => `${typeof tokens}:${tokens}`,
        },
        big: { type: TokenCountScalar, resolve: () => MAX_COUNT },
        small: { type: TokenCountScalar, resolve: () => 0n },
        negative: { type: TokenCountScalar, resolve: () => -1n },
      },
    }),
  });

  it('serializes bigints as decimal strings, beyond 2^53 exactly', async () => {
    const result = await graphql({ schema, source: '{ big small }' });
    expect(result).toEqual({ data: { big: '9223372036854775807', small: '0' } });
  });

  it('refuses to serialize a negative count', async () => {
    const result = await graphql({ schema, source: '{ negative }' });
    expect(result.errors?.[0].message).toMatch(/non-negative/);
  });

  it.each([
    ['an Int literal', '{ echo(tokens: 150000) }', {}, 'bigint:150000'],
    ['an Int literal beyond 2^31', '{ echo(tokens: 9223372036854775807) }', {}, 'bigint:9223372036854775807'],
    ['a string literal', '{ echo(tokens: "2147483648") }', {}, 'bigint:2147483648'],
    ['a JSON number variable', 'query ($t: TokenCount) { echo(tokens: $t) }', { t: 150000 }, 'bigint:150000'],
    ['a JSON number variable up to 2^53 - 1', 'query ($t: TokenCount) { echo(tokens: $t) }', { t: Number.MAX_SAFE_INTEGER }, `bigint:${Number.MAX_SAFE_INTEGER}`],
    ['a string variable', 'query ($t: TokenCount) { echo(tokens: $t) }', { t: '9223372036854775807' }, 'bigint:9223372036854775807'],
  ])('reads %s as a bigint', async (_label, source, variableValues, echoed) => {
    const result = await graphql({ schema, source, variableValues });
    expect(result).toEqual({ data: { echo: echoed } });
  });

  it.each([
    ['a negative Int literal', '{ echo(tokens: -5) }', {}, /cannot be negative/],
    ['a Float literal', '{ echo(tokens: 1.5) }', {}, /whole number/],
    ['a negative string', 'query ($t: TokenCount) { echo(tokens: $t) }', { t: '-5' }, /cannot be negative/],
    ['a negative number', 'query ($t: TokenCount) { echo(tokens: $t) }', { t: -5 }, /cannot be negative/],
    ['a fractional number', 'query ($t: TokenCount) { echo(tokens: $t) }', { t: 2.5 }, /whole number/],
    ['a fractional string', 'query ($t: TokenCount) { echo(tokens: $t) }', { t: '2.5' }, /whole number/],
    ['a number beyond 2^53', 'query ($t: TokenCount) { echo(tokens: $t) }', { t: 2 ** 60 }, /decimal string/],
    ['a string beyond the bigint range', 'query ($t: TokenCount) { echo(tokens: $t) }', { t: '9223372036854775808' }, /at most 9223372036854775807/],
    ['an Int literal beyond the bigint range', '{ echo(tokens: 9223372036854775808) }', {}, /at most 9223372036854775807/],
    ['a boolean', 'query ($t: TokenCount) { echo(tokens: $t) }', { t: true }, /integer or a decimal string/],
    ['a boolean literal', '{ echo(tokens: true) }', {}, /integer or a string of digits/],
    ['words', 'query ($t: TokenCount) { echo(tokens: $t) }', { t: 'many' }, /string of digits/],
  ])('rejects %s', async (_label, source, variableValues, message) => {
    const result = await graphql({ schema, source, variableValues });
    expect(result.data?.echo ?? null).toBeNull();
    expect(result.errors?.[0].message).toMatch(message);
  });
});

describe('Count: the same rules under its own name', () => {
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({
      name: 'Query',
      fields: {
        echo: { type: GraphQLString, args: { count: { type: CountScalar } }, resolve: (_root, { count }: { count: bigint }) => `${typeof count}:${count}` },
        big: { type: CountScalar, resolve: () => MAX_COUNT },
      },
    }),
  });

  it('serializes a bigint as a decimal string and reads one back', async () => {
    expect(await graphql({ schema, source: '{ big echo(count: "9223372036854775807") }' })).toEqual({
      data: { big: '9223372036854775807', echo: 'bigint:9223372036854775807' },
    });
  });

  it('names itself when it refuses a value', async () => {
    const result = await graphql({ schema, source: 'query ($c: Count) { echo(count: $c) }', variableValues: { c: '-1' } });
    expect(result.errors?.[0].message).toMatch(/Count cannot be negative \(got "-1"\)/);
  });
});
