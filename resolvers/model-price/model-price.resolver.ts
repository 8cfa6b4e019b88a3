import { Arg, Args, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { encodeTextCursor } from '../../src/db/keyset';
import { readScope, requireAdmin } from '../../src/auth/access';
import type { Context } from '../../src/graphql/context';
import { modelPricePage, removeModelPrice, setModelPrice } from '../../src/pricing/model-price.service';
import { ConnectionArgs, toConnection, withUserErrors } from '../common.types';
import {
  ModelPriceRemoveInput,
  ModelPriceRemovePayload,
  ModelPriceSetInput,
  ModelPriceSetPayload,
  ModelPriceConnection,
  ModelPriceType,
} from './model-price.types';

@Resolver(() => ModelPriceType)
export class ModelPriceResolver {
  @Query(() => ModelPriceConnection, { description: 'The price catalog, by model id' })
  async modelPrices(
    @Ctx() ctx: Context,
    @Args() page: ConnectionArgs,
    @Arg('models', () => [String], { nullable: true, description: 'Only these models' }) models?: string[] | null,
  ) {
    readScope(ctx.principal);
    return toConnection(await modelPricePage(ctx, page, models ?? null), (price) => encodeTextCursor(price.model));
  }

  @Mutation(() => ModelPriceSetPayload, { description: 'Platform admin: adds a model to the catalog or changes its price' })
  async modelPriceSet(@Ctx() ctx: Context, @Arg('input') input: ModelPriceSetInput) {
    const admin = requireAdmin(ctx.principal);
    return withUserErrors(ctx, async () => ({ modelPrice: await setModelPrice(ctx, admin, input) }));
  }

  @Mutation(() => ModelPriceRemovePayload, { description: 'Platform admin: removes a model from the catalog' })
  async modelPriceRemove(@Ctx() ctx: Context, @Arg('input') input: ModelPriceRemoveInput) {
    const admin = requireAdmin(ctx.principal);
    return withUserErrors(ctx, async () => ({ modelPrice: await removeModelPrice(ctx, admin, input) }));
  }
}
