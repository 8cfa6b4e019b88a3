import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { MANAGERS, requireMember } from '../../src/auth/access';
import type { Context } from '../../src/graphql/context';
import { removeCard, setDefaultCard, startCardSetup } from '../../src/payments/payment-methods.service';
import { withUserErrors } from '../common.types';
import {
  PaymentMethodRemoveInput,
  PaymentMethodRemovePayload,
  PaymentMethodSetDefaultInput,
  PaymentMethodSetDefaultPayload,
  PaymentMethodSetupStartInput,
  PaymentMethodSetupStartPayload,
  PaymentMethodType,
} from './payment-method.types';

@Resolver(() => PaymentMethodType)
export class PaymentMethodResolver {
  @Mutation(() => PaymentMethodSetupStartPayload, { description: 'Owners and admins: start saving a card (the dashboard completes it with Stripe.js)' })
  async paymentMethodSetupStart(@Ctx() ctx: Context, @Arg('input') input: PaymentMethodSetupStartInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    return withUserErrors(ctx, async () => ({ clientSecret: await startCardSetup(ctx, actor, input) }));
  }

  @Mutation(() => PaymentMethodSetDefaultPayload)
  async paymentMethodSetDefault(@Ctx() ctx: Context, @Arg('input') input: PaymentMethodSetDefaultInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    return withUserErrors(ctx, async () => ({ paymentMethod: await setDefaultCard(ctx, actor, input) }));
  }

  @Mutation(() => PaymentMethodRemovePayload)
  async paymentMethodRemove(@Ctx() ctx: Context, @Arg('input') input: PaymentMethodRemoveInput) {
    const actor = requireMember(ctx.principal, MANAGERS);
    return withUserErrors(ctx, async () => ({ removedId: await removeCard(ctx, actor, input) }));
  }
}
