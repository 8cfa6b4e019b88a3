/**
 * What a model call costs (DESIGN §3), in integers of nano-USD. A price has components; a call
 * uses quantities of them; cost = Σ component × quantity, less a negotiated discount, plus the
 * markup, rounded half up once.
 */

/** A model's price. Token components are nano-USD per 1M tokens; the request fee and image price are nano-USD each. */
export interface TokenPrice {
  inputPrice: bigint;
  outputPrice: bigint;
  /** Input read from the provider's cache; none: billed as input. */
  cachedInputPrice?: bigint | null;
  /** Input written to the provider's cache; none: billed as input. */
  cacheWritePrice?: bigint | null;
  /** Reasoning tokens; none: billed as output. */
  reasoningPrice?: bigint | null;
  /** A fee per call; none: no fee. */
  requestPrice?: bigint | null;
  /** Per image; none: the model takes no images, and a call that reports some is not priced. */
  imagePrice?: bigint | null;
}

/** What a call used: input and output are the plain tokens (uncached, not reasoning); the rest is counted apart. */
export interface CallQuantities {
  inputTokens: bigint;
  outputTokens: bigint;
  cachedInputTokens: bigint;
  cacheWriteTokens: bigint;
  reasoningTokens: bigint;
  images: bigint;
}

/** A call's quantities, those beyond input and output 0 when left out. */
export type CallUsage = Pick<CallQuantities, 'inputTokens' | 'outputTokens'> & Partial<CallQuantities>;

/** How a call is priced: the model's price, the markup of its routing mode in its workspace, a negotiated discount. */
export interface CallPricing {
  price: TokenPrice;
  markupBps: number;
  discountBps: number;
}

/** A call's charge: `cost` = `providerCost` + `markup`, each rounded half up once from the exact figure. */
export interface Charge {
  /** The price of what was used (after any negotiated discount), before the markup. */
  providerCost: bigint;
  markup: bigint;
  cost: bigint;
}

const TOKENS_PER_PRICE_UNIT = 1_000_000n;
const BASIS_POINTS = 10_000n;

/** Half up, for a non-negative numerator. */
const divideRounded = (numerator: bigint, denominator: bigint) => (numerator + denominator / 2n) / denominator;

/** Σ component × quantity, in nano-USD per 1M (token prices' unit); null when an image is not priced. */
function usageValue(usage: CallUsage, price: TokenPrice): bigint | null {
  const images = usage.images ?? 0n;
  if (images > 0n && price.imagePrice == null) return null;
  return (
    usage.inputTokens * price.inputPrice +
    usage.outputTokens * price.outputPrice +
    (usage.cachedInputTokens ?? 0n) * (price.cachedInputPrice ?? price.inputPrice) +
    (usage.cacheWriteTokens ?? 0n) * (price.cacheWritePrice ?? price.inputPrice) +
    (usage.reasoningTokens ?? 0n) * (price.reasoningPrice ?? price.outputPrice) +
    ((price.requestPrice ?? 0n) + images * (price.imagePrice ?? 0n)) * TOKENS_PER_PRICE_UNIT
  );
}

/** The charge of a value in nano-USD × `scale`, less `discountBps`, plus `markupBps`. */
function chargeOf(value: bigint, scale: bigint, markupBps: number, discountBps: number): Charge {
  const discounted = value * (BASIS_POINTS - BigInt(discountBps));
  const providerCost = divideRounded(discounted, scale * BASIS_POINTS);
  const cost = divideRounded(discounted * (BASIS_POINTS + BigInt(markupBps)), scale * BASIS_POINTS * BASIS_POINTS);
  return { providerCost, markup: cost - providerCost, cost };
}

/** The charge of a call priced by the catalog (or a negotiated price); null when it used something the price lacks. */
export function priceCall(usage: CallUsage, price: TokenPrice, markupBps: number, discountBps = 0): Charge | null {
  const value = usageValue(usage, price);
  return value === null ? null : chargeOf(value, TOKENS_PER_PRICE_UNIT, markupBps, discountBps);
}

/** The charge of a call whose provider reported its cost (bring-your-own-key, tools): the markup applies, no discount. */
export function chargeProviderCost(providerCost: bigint, markupBps: number): Charge {
  return chargeOf(providerCost, 1n, markupBps, 0);
}

/**
 * (input tokens × input price + output tokens × output price) × (1 + markup), rounded half up
 * to the nano-USD: the charge of a plain token call.
 */
export function usageCost(inputTokens: bigint, outputTokens: bigint, price: TokenPrice, markupBps: number): bigint {
  return priceCall({ inputTokens, outputTokens }, price, markupBps)!.cost;
}

/** The charge of what a call reported: the provider's own cost when it gave one, else its quantities at the price. */
export function chargeOfUsage(usage: CallUsage & { providerCost: bigint | null }, pricing: CallPricing): Charge | null {
  if (usage.providerCost !== null) return chargeProviderCost(usage.providerCost, pricing.markupBps);
  return priceCall(usage, pricing.price, pricing.markupBps, pricing.discountBps);
}

/** Every token a call used, whatever its kind: what token limits count. */
export function tokensOf(usage: CallUsage): bigint {
  return usage.inputTokens + usage.outputTokens + (usage.cachedInputTokens ?? 0n) + (usage.cacheWriteTokens ?? 0n) + (usage.reasoningTokens ?? 0n);
}
