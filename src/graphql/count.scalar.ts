import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

/** PostgreSQL bigint's upper bound: every stored count must fit. */
export const MAX_COUNT = 9_223_372_036_854_775_807n;

const INTEGER = /^(-)?(\d+)$/;
const FRACTION_OR_EXPONENT = /^-?(\d+\.\d*|\.\d+|\d+(\.\d*)?e[+-]?\d+)$/i;

export class CountFormatError extends Error {}

function shown(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

/** Reads a decimal string of digits ("0", "150000", "9223372036854775807") as a bigint; `name` is the scalar's, for the messages. */
export function parseCount(text: string, name: string): bigint {
  const match = INTEGER.exec(text);
  if (!match) {
    if (FRACTION_OR_EXPONENT.test(text)) {
      throw new CountFormatError(`${name} must be a whole number, without fraction or exponent (got ${shown(text)})`);
    }
    throw new CountFormatError(`${name} must be a string of digits such as "150000" (got ${shown(text)})`);
  }
  const significant = match[2].replace(/^0+(?=\d)/, '');
  if (match[1] && significant !== '0') throw new CountFormatError(`${name} cannot be negative (got ${shown(text)})`);
  // The length is checked first, so that a huge string is never turned into a bigint.
  if (significant.length > 19 || BigInt(significant) > MAX_COUNT) {
    throw new CountFormatError(`${name} is at most ${MAX_COUNT} (got ${shown(text)})`);
  }
  return BigInt(significant);
}

function fromNumber(value: number, name: string): bigint {
  if (!Number.isFinite(value)) throw new GraphQLError(`${name} must be a whole number (got ${value})`);
  if (value < 0) throw new GraphQLError(`${name} cannot be negative (got ${value})`);
  if (!Number.isInteger(value)) throw new GraphQLError(`${name} must be a whole number, without fraction (got ${value})`);
  // A JSON number above 2^53 may already have lost digits on its way here.
  if (!Number.isSafeInteger(value)) {
    throw new GraphQLError(`${name} above ${Number.MAX_SAFE_INTEGER} must be sent as a decimal string, e.g. "9007199254740993"`);
  }
  return BigInt(value);
}

function fromInput(value: unknown, name: string): bigint {
  if (typeof value === 'number') return fromNumber(value, name);
  if (typeof value === 'string') {
    try {
      return parseCount(value, name);
    } catch (error) {
      if (error instanceof CountFormatError) throw new GraphQLError(error.message);
      throw error;
    }
  }
  throw new GraphQLError(`${name} must be an integer or a decimal string of digits, not a ${value === null ? 'null' : typeof value}`);
}

/**
 * A non-negative count that may exceed a GraphQL Int (2^31 - 1): a decimal string outside, a
 * bigint inside. Inputs may also be an Int. One definition for every such scalar, which differ
 * only in their name and what they count.
 */
function countScalar(name: string, description: string): GraphQLScalarType<bigint, string> {
  return new GraphQLScalarType<bigint, string>({
    name,
    description,
    serialize(value) {
      if (typeof value === 'bigint' && value >= 0n) return value.toString();
      if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
      throw new GraphQLError(`${name} can only serialize a non-negative bigint`);
    },
    parseValue: (value) => fromInput(value, name),
    parseLiteral(ast) {
      if (ast.kind === Kind.INT || ast.kind === Kind.STRING) {
        try {
          return parseCount(ast.value, name);
        } catch (error) {
          if (error instanceof CountFormatError) throw new GraphQLError(error.message, { nodes: ast });
          throw error;
        }
      }
      if (ast.kind === Kind.FLOAT) {
        throw new GraphQLError(`${name} must be a whole number, without fraction or exponent (got ${ast.value})`, { nodes: ast });
      }
      throw new GraphQLError(`${name} must be an integer or a string of digits such as "150000"`, { nodes: ast });
    },
  });
}

const FORMAT = `up to ${MAX_COUNT}. Output as a decimal string such as "150000"; input as an Int or a decimal string of digits.`;

export const TokenCountScalar = countScalar('TokenCount', `A non-negative whole number of tokens, ${FORMAT}`);

/** Counts of things other than tokens that may outgrow an Int, such as the requests summed over a usage report. */
export const CountScalar = countScalar('Count', `A non-negative whole number (of requests, for instance), ${FORMAT}`);
