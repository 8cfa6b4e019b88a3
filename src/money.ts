/**
 * Money is an integer count of nano-USD (1e-9 USD) held in a bigint; the API speaks decimal
 * strings of USD. Nothing here ever touches a floating-point number.
 */
export const NANOS_PER_USD = 1_000_000_000n;
export const FRACTION_DIGITS = 9;
/** PostgreSQL bigint bounds: every stored figure must fit. */
export const MAX_NANOS = 9_223_372_036_854_775_807n;
export const MIN_NANOS = -9_223_372_036_854_775_808n;

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

export class MoneyFormatError extends Error {}

/** Parses a decimal USD string ("12.50", "-3", "0.000000001") into nano-USD. */
export function parseMoney(text: string): bigint {
  const match = DECIMAL.exec(text);
  if (!match) {
    throw new MoneyFormatError(
      `Money must be a decimal string of USD such as "12.5" (got ${JSON.stringify(text)})`,
    );
  }
  const [, sign, whole, fraction = ''] = match;
  if (fraction.length > FRACTION_DIGITS) {
    throw new MoneyFormatError(
      `Money has at most ${FRACTION_DIGITS} fractional digits (got ${JSON.stringify(text)})`,
    );
  }
  const magnitude = BigInt(whole) * NANOS_PER_USD + BigInt(fraction.padEnd(FRACTION_DIGITS, '0'));
  const nanos = sign ? -magnitude : magnitude;
  if (nanos > MAX_NANOS || nanos < MIN_NANOS) {
    throw new MoneyFormatError(`Money is out of range (got ${JSON.stringify(text)})`);
  }
  return nanos;
}

/** Canonical form: no exponent, no trailing zeros, no trailing point ("25", "12.5", "-0.01"). */
export function formatMoney(nanos: bigint): string {
  const negative = nanos < 0n;
  const magnitude = negative ? -nanos : nanos;
  const whole = magnitude / NANOS_PER_USD;
  const fraction = (magnitude % NANOS_PER_USD)
    .toString()
    .padStart(FRACTION_DIGITS, '0')
    .replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}
