export interface TokenPrice {
  /** Nano-USD per 1M input tokens. */
  inputPrice: bigint;
  /** Nano-USD per 1M output tokens. */
  outputPrice: bigint;
}

const TOKENS_PER_PRICE_UNIT = 1_000_000n;
const BASIS_POINTS = 10_000n;

/**
 * (input tokens × input price + output tokens × output price) × (1 + markup), rounded half up
 * to the nano-USD, all in integers (DESIGN.md §3).
 */
export function usageCost(inputTokens: bigint, outputTokens: bigint, price: TokenPrice, markupBps: number): bigint {
  const numerator = (inputTokens * price.inputPrice + outputTokens * price.outputPrice) * (BASIS_POINTS + BigInt(markupBps));
  const denominator = TOKENS_PER_PRICE_UNIT * BASIS_POINTS;
  return (numerator + denominator / 2n) / denominator;
}
