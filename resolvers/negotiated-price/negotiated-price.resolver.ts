import { Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import type { NegotiatedPrice } from '../../entities';
import { requireAdmin } from '../../src/auth/access';
import type { Context } from '../../src/graphql/context';
import { parseId } from '../../src/ids';
import { setNegotiatedPrice } from '../../src/pricing/negotiated-price.service';
import { withUserErrors } from '../common.types';
import { PriceType } from '../model-price/model-price.types';
import { NegotiatedPriceSetInput, NegotiatedPriceSetPayload, NegotiatedPriceType } from './negotiated-price.types';

@Resolver(() => NegotiatedPriceType)
export class NegotiatedPriceResolver {
  @FieldResolver(() => PriceType, { nullable: true, description: "A fixed price of the model instead of the catalog's" })
  price(@Root() terms: NegotiatedPrice): PriceType | null {
    if (terms.inputPrice == null || terms.outputPrice == null) return null;
    return {
      inputPrice: terms.inputPrice,
      outputPrice: terms.outputPrice,
      cachedInputPrice: terms.cachedInputPrice ?? null,
      cacheWritePrice: terms.cacheWritePrice ?? null,
      reasoningPrice: terms.reasoningPrice ?? null,
      requestPrice: terms.requestPrice ?? null,
      imagePrice: terms.imagePrice ?? null,
    };
  }

  @FieldResolver(() => Boolean, {
    description: 'Neither a discount nor a price: the terms of this scope ended (a model falls back to the organization-wide terms, those to the catalog)',
  })
  ended(@Root() terms: NegotiatedPrice): boolean {
    return terms.discountBps == null && terms.inputPrice == null;
  }

  @Mutation(() => NegotiatedPriceSetPayload, {
    description: 'Platform admin: records prices agreed with an organization (a discount, a fixed price of a model, or the end of such terms); kept as a history',
  })
  async negotiatedPriceSet(@Ctx() ctx: Context, @Arg('input') input: NegotiatedPriceSetInput) {
    const admin = requireAdmin(ctx.principal);
    const organizationId = parseId('organization', input.organizationId, 'input.organizationId');
    return withUserErrors(ctx, async () => ({ negotiatedPrice: await setNegotiatedPrice(ctx, admin, { ...input, organizationId }) }));
  }
}
