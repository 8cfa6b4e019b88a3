import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { readScope, requireAdmin } from '../../src/auth/access';
import type { Context } from '../../src/graphql/context';
import { parseId } from '../../src/ids';
import { listMeters, setMeter, setMeterAllowance } from '../../src/pricing/meter.service';
import { withUserErrors } from '../common.types';
import { MeterAllowanceSetInput, MeterAllowanceSetPayload, MeterSetInput, MeterSetPayload, MeterType } from './meter.types';

@Resolver(() => MeterType)
export class MeterResolver {
  @Query(() => [MeterType], { description: "The operator's metered extras (at most 50); a workspace's allowances and counts: Workspace.meters" })
  meters(@Ctx() ctx: Context) {
    readScope(ctx.principal);
    return listMeters(ctx);
  }

  @Mutation(() => MeterSetPayload, { description: 'Platform admin: defines a meter, or changes its unit price and monthly allowance' })
  async meterSet(@Ctx() ctx: Context, @Arg('input') input: MeterSetInput) {
    const admin = requireAdmin(ctx.principal);
    return withUserErrors(ctx, async () => ({ meter: await setMeter(ctx, admin, input) }));
  }

  @Mutation(() => MeterAllowanceSetPayload, { description: 'Platform admin: gives a workspace its own monthly allowance of a meter, or removes it' })
  async meterAllowanceSet(@Ctx() ctx: Context, @Arg('input') input: MeterAllowanceSetInput) {
    const admin = requireAdmin(ctx.principal);
    const workspaceId = parseId('workspace', input.workspaceId, 'input.workspaceId');
    return withUserErrors(ctx, async () => ({ workspaceMeter: await setMeterAllowance(ctx, admin, { ...input, workspaceId }) }));
  }
}
