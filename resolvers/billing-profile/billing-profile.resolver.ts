import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { MANAGERS, requireMember } from '../../src/auth/access';
import type { Context } from '../../src/graphql/context';
import { parseId } from '../../src/ids';
import { addTaxId, removeTaxId, updateBillingProfile } from '../../src/payments/billing.service';
import { withUserErrors } from '../common.types';
import {
  BillingProfileType,
  BillingProfileUpdateInput,
  BillingProfileUpdatePayload,
  TaxIdAddInput,
  TaxIdAddPayload,
  TaxIdRemoveInput,
  TaxIdRemovePayload,
} from './billing-profile.types';

@Resolver(() => BillingProfileType)
export class BillingProfileResolver {

  @Mutation(() => BillingProfileUpdatePayload, { description: "Owners and admins: the name and address on the organization's invoices" })
  async billingProfileUpdate(@Ctx() ctx: Context, @Arg('input') input: BillingProfileUpdateInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    return withUserErrors(ctx, async () => ({ organization: await updateBillingProfile(ctx, actor, input) }));
  }

  @Mutation(() => TaxIdAddPayload, { description: 'Owners and admins: a tax ID for the invoices' })
  async taxIdAdd(@Ctx() ctx: Context, @Arg('input') input: TaxIdAddInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    return withUserErrors(ctx, async () => ({ taxId: await addTaxId(ctx, actor, input) }));
  }

  @Mutation(() => TaxIdRemovePayload)
  async taxIdRemove(@Ctx() ctx: Context, @Arg('input') input: TaxIdRemoveInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    const taxIdId = parseId('taxId', input.taxIdId, 'input.taxIdId');
    return withUserErrors(ctx, async () => ({ removedId: await removeTaxId(ctx, actor, { taxIdId }) }));
  }
}
