import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { ModelPrice } from '../entities';
import { readScope, requireAdmin } from '../src/auth/access';
import type { Context } from '../src/graphql/context';
import { listModelPrices, removeModelPrice, setModelPrice } from '../src/pricing/model-price.service';
import { withUserErrors } from './common.types';
import {
  ModelPriceRemoveInput,
  ModelPriceRemovePayload,
  ModelPriceSetInput,
  ModelPriceSetPayload,
  ModelPriceType,
} from './model-price.types';

@Resolver(() => ModelPriceType)
export class ModelPriceResolver {
  @Query(() => [ModelPriceType], { description: 'The price catalog, by model id' })
  modelPrices(@Ctx() ctx: Context): Promise<ModelPrice[]> {
    readScope(ctx.principal);
    return listModelPrices(ctx);
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
