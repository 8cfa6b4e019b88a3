import { bigintOrNull } from '../db/recordset';
import { type CallPricing, type CallUsage, type Charge, chargeOfUsage } from '../pricing/cost';
import type { AuthorizeRequest, RoutingMode } from './contract';
import type { HoldRow } from './state';

/** How the gateway prices what an authorization declares, and what a hold keeps of its price. */

/** The quantities an authorization declares at most (left out: none). */
export function worstUsage(request: AuthorizeRequest): CallUsage {
  return {
    inputTokens: request.maxInputTokens ?? 0n,
    outputTokens: request.maxOutputTokens ?? 0n,
    cachedInputTokens: request.maxCachedInputTokens ?? 0n,
    cacheWriteTokens: request.maxCacheWriteTokens ?? 0n,
    reasoningTokens: request.maxReasoningTokens ?? 0n,
    images: request.maxImages ?? 0n,
  };
}

/** What an authorization holds: the dearer of its maxima at the price and its maximum provider cost with the markup. */
export function worstCase(request: AuthorizeRequest, pricing: CallPricing): Charge | null {
  const priced = chargeOfUsage({ ...worstUsage(request), providerCost: null }, pricing);
  if (request.maxProviderCost === null || priced === null) return priced;
  const reported = chargeOfUsage({ inputTokens: 0n, outputTokens: 0n, providerCost: request.maxProviderCost }, pricing)!;
  return reported.cost > priced.cost ? reported : priced;
}

/** The pricing a hold keeps, as its row stores it. */
export function holdPricing(routingMode: RoutingMode, { price, markupBps, discountBps }: CallPricing) {
  const text = (value: bigint | null | undefined) => (value == null ? null : String(value));
  return {
    routing_mode: routingMode,
    markup_bps: markupBps,
    discount_bps: discountBps,
    input_price: String(price.inputPrice),
    output_price: String(price.outputPrice),
    cached_input_price: text(price.cachedInputPrice),
    cache_write_price: text(price.cacheWritePrice),
    reasoning_price: text(price.reasoningPrice),
    request_price: text(price.requestPrice),
    image_price: text(price.imagePrice),
  };
}

/** The pricing a capture bills: the hold's, from its authorization. */
export function pricingOfHold(hold: HoldRow): CallPricing {
  return {
    markupBps: hold.markup_bps,
    discountBps: hold.discount_bps,
    price: {
      inputPrice: BigInt(hold.input_price),
      outputPrice: BigInt(hold.output_price),
      cachedInputPrice: bigintOrNull(hold.cached_input_price),
      cacheWritePrice: bigintOrNull(hold.cache_write_price),
      reasoningPrice: bigintOrNull(hold.reasoning_price),
      requestPrice: bigintOrNull(hold.request_price),
      imagePrice: bigintOrNull(hold.image_price),
    },
  };
}
