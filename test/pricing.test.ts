import { chargeProviderCost, priceCall, usageCost } from '../src/pricing/cost';

/** The cost formula, on hand-computed figures: no database, no server. */

/** $3 / $15 per 1M input / output tokens; cached input $0.30, cache writes $3.75, reasoning $15, $0.001 a call, $0.04 an image. */
const TOKENS = { inputPrice: 3_000_000_000n, outputPrice: 15_000_000_000n };
const FULL = {
  inputPrice: 3_000_000_000n,
  outputPrice: 15_000_000_000n,
  cachedInputPrice: 300_000_000n,
  cacheWritePrice: 3_750_000_000n,
  reasoningPrice: 15_000_000_000n,
  requestPrice: 1_000_000n,
  imagePrice: 40_000_000n,
};

describe('the cost of a call', () => {
  it('is input and output at their prices, with the markup, rounded half up once', () => {
    // 1,234 × 3,000 + 567 × 15,000 = 12,207,000 nano-USD; +10% = 13,427,700.
    expect(priceCall({ inputTokens: 1234n, outputTokens: 567n }, TOKENS, 1000)).toEqual({ providerCost: 12_207_000n, markup: 1_220_700n, cost: 13_427_700n });
    // 1 input token at 150,000 nano-USD per 1M is 0.15 nano-USD: 0 before the markup; +250% = 0.525, rounded to 1.
    expect(priceCall({ inputTokens: 1n, outputTokens: 0n }, { inputPrice: 150_000n, outputPrice: 0n }, 25_000)).toEqual({ providerCost: 0n, markup: 1n, cost: 1n });
    expect(usageCost(1234n, 567n, TOKENS, 1000)).toBe(13_427_700n);
    // A fee per call comes on top: $0.001, +10%.
    expect(priceCall({ inputTokens: 1234n, outputTokens: 567n }, FULL, 1000)?.cost).toBe(13_427_700n + 1_100_000n);
  });

  it('sums every component it used', () => {
    const usage = { inputTokens: 1000n, outputTokens: 200n, cachedInputTokens: 5000n, cacheWriteTokens: 800n, reasoningTokens: 300n, images: 2n };
    // 3,000,000 + 3,000,000 + 1,500,000 + 3,000,000 + 4,500,000 + 1,000,000 + 80,000,000 = 96,000,000.
    expect(priceCall(usage, FULL, 0)).toEqual({ providerCost: 96_000_000n, markup: 0n, cost: 96_000_000n });
    // +8%: 103,680,000.
    expect(priceCall(usage, FULL, 800)?.cost).toBe(103_680_000n);
  });

  it('bills cached input and cache writes as input, reasoning as output, where the price has no component for them', () => {
    const usage = { inputTokens: 0n, outputTokens: 0n, cachedInputTokens: 100n, cacheWriteTokens: 10n, reasoningTokens: 1n };
    expect(priceCall(usage, TOKENS, 0)?.cost).toBe(110n * 3_000n + 15_000n);
  });

  it('is not priced when it reports images and the model has no image price', () => {
    expect(priceCall({ inputTokens: 1n, outputTokens: 1n, images: 1n }, { inputPrice: 1n, outputPrice: 1n }, 0)).toBeNull();
    expect(priceCall({ inputTokens: 1n, outputTokens: 1n, images: 0n }, { inputPrice: 1n, outputPrice: 1n }, 0)).not.toBeNull();
  });

  it('takes a negotiated discount off the price, before the markup', () => {
    // 12,207,000 less 12.5% = 10,681,125; +10% = 11,749,237.5, rounded half up to 11,749,238.
    expect(priceCall({ inputTokens: 1234n, outputTokens: 567n }, TOKENS, 1000, 1250)).toEqual({ providerCost: 10_681_125n, markup: 1_068_113n, cost: 11_749_238n });
  });

  it('of a provider-reported cost is that cost with the markup', () => {
    expect(chargeProviderCost(12_345_679n, 800)).toEqual({ providerCost: 12_345_679n, markup: 987_654n, cost: 13_333_333n });
  });
});
