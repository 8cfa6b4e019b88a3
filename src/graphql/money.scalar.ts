import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { formatMoney, MoneyFormatError, parseMoney } from '../money';

function fromInput(value: unknown): bigint {
  if (typeof value !== 'string') {
    throw new GraphQLError(`Money must be a decimal string such as "12.5", not a ${typeof value}`);
  }
  try {
    return parseMoney(value);
  } catch (error) {
    if (error instanceof MoneyFormatError) throw new GraphQLError(error.message);
    throw error;
  }
}

/** USD as an exact decimal string outside, nano-USD as a bigint inside (DESIGN.md §3). */
export const MoneyScalar = new GraphQLScalarType<bigint, string>({
  name: 'Money',
  description:
    'An exact amount of USD as a decimal string with at most 9 fractional digits, e.g. "25", "12.5", "-0.000001". ' +
    'Never a JSON number.',
  serialize(value) {
    if (typeof value !== 'bigint') throw new GraphQLError('Money can only serialize a bigint of nano-USD');
    return formatMoney(value);
  },
  parseValue: fromInput,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) {
      throw new GraphQLError('Money must be a string literal such as "12.5"', { nodes: ast });
    }
    return fromInput(ast.value);
  },
});
