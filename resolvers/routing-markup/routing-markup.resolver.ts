import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { requireAdmin } from '../../src/auth/access';
import type { Context } from '../../src/graphql/context';
import { parseId } from '../../src/ids';
import { routingMarkups, setRoutingMarkup } from '../../src/pricing/routing-markup.service';
import { withUserErrors } from '../common.types';
import { RoutingMarkupSetInput, RoutingMarkupSetPayload, RoutingMarkupType } from './routing-markup.types';

@Resolver(() => RoutingMarkupType)
export class RoutingMarkupResolver {
  @Query(() => [RoutingMarkupType], { description: "Platform admin: the operator's markup of each routing mode (a workspace's: Workspace.routingMarkups)" })
  routingMarkups(@Ctx() ctx: Context) {
    requireAdmin(ctx.principal);
    return routingMarkups(ctx, null);
  }

  @Mutation(() => RoutingMarkupSetPayload, { description: 'Platform admin: sets the markup of a routing mode, for every workspace or one' })
  async routingMarkupSet(@Ctx() ctx: Context, @Arg('input') input: RoutingMarkupSetInput) {
    const admin = requireAdmin(ctx.principal);
    const workspaceId = input.workspaceId == null ? null : parseId('workspace', input.workspaceId, 'input.workspaceId');
    return withUserErrors(ctx, async () => ({ routingMarkups: await setRoutingMarkup(ctx, admin, { ...input, workspaceId }) }));
  }
}
