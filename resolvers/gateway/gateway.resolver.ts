import { Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import { Transaction } from '../../entities';
import { requireGateway } from '../../src/auth/access';
import { gateway } from '../../src/gateway/gateway.service';
import type { Context } from '../../src/graphql/context';
import { TransactionObject } from '../transaction/transaction.types';
import {
  GatewayAuthorizeInput,
  GatewayAuthorizePayload,
  GatewayCaptureInput,
  GatewayCapturePayload,
  GatewayDebitBatchInput,
  GatewayDebitBatchPayload,
  GatewayDebitInput,
  GatewayDebitPayload,
  GatewayMeterReportInput,
  GatewayMeterReportPayload,
  GatewayReleaseInput,
  GatewayReleasePayload,
} from './gateway.types';

/** The ledger row of a charge, as an object that a normalized cache can keep. */
function chargedTransaction(answer: { transactionId: string | null }, ctx: Context): Promise<Transaction | null> {
  return answer.transactionId ? ctx.loaders.transaction.load(answer.transactionId) : Promise.resolve(null);
}

@Resolver(() => GatewayDebitPayload)
export class GatewayDebitPayloadResolver {
  @FieldResolver(() => TransactionObject, { nullable: true, description: 'The DEDUCTION row, when allowed' })
  transaction(@Root() answer: GatewayDebitPayload, @Ctx() ctx: Context) {
    return chargedTransaction(answer, ctx);
  }
}

@Resolver(() => GatewayCapturePayload)
export class GatewayCapturePayloadResolver {
  @FieldResolver(() => TransactionObject, { nullable: true, description: 'The DEDUCTION row, when allowed' })
  transaction(@Root() answer: GatewayCapturePayload, @Ctx() ctx: Context) {
    return chargedTransaction(answer, ctx);
  }
}

@Resolver(() => GatewayMeterReportPayload)
export class GatewayMeterReportPayloadResolver {
  @FieldResolver(() => TransactionObject, { nullable: true, description: 'The METERED row, when something was charged' })
  transaction(@Root() answer: GatewayMeterReportPayload, @Ctx() ctx: Context) {
    return chargedTransaction(answer, ctx);
  }
}

function gatewayOf(ctx: Context) {
  requireGateway(ctx.principal);
  return ctx.gateway;
}

/** The gateway contract (DESIGN.md §6); a denial is an answer with `allowed: false`, not an error. */
@Resolver()
export class GatewayResolver {
  @Mutation(() => GatewayDebitPayload, { description: 'Checks every limit and charges a finished request, in one step' })
  gatewayDebit(@Ctx() ctx: Context, @Arg('input') input: GatewayDebitInput) {
    return gateway.debit(gatewayOf(ctx), input);
  }

  @Mutation(() => GatewayDebitBatchPayload, { description: 'Up to 1,000 debits in one request, one answer each, in order' })
  async gatewayDebitBatch(@Ctx() ctx: Context, @Arg('input') input: GatewayDebitBatchInput) {
    return { results: await gateway.debitBatch(gatewayOf(ctx), input.debits) };
  }

  @Mutation(() => GatewayAuthorizePayload, {
    description: 'Counts the request, checks every limit and holds its worst-case cost until capture or release',
  })
  gatewayAuthorize(@Ctx() ctx: Context, @Arg('input') input: GatewayAuthorizeInput) {
    return gateway.authorize(gatewayOf(ctx), input);
  }

  @Mutation(() => GatewayCapturePayload, { description: 'Charges the actual cost of a held request and frees the rest' })
  gatewayCapture(@Ctx() ctx: Context, @Arg('input') input: GatewayCaptureInput) {
    return gateway.capture(gatewayOf(ctx), input);
  }

  @Mutation(() => GatewayReleasePayload, { description: 'Frees a hold without charging' })
  gatewayRelease(@Ctx() ctx: Context, @Arg('input') input: GatewayReleaseInput) {
    return gateway.release(gatewayOf(ctx), input);
  }

  @Mutation(() => GatewayMeterReportPayload, {
    description: "Reports units of a metered extra (traces, …): those beyond the workspace's monthly allowance are charged at the meter's price",
  })
  async gatewayMeterReport(@Ctx() ctx: Context, @Arg('input') input: GatewayMeterReportInput): Promise<GatewayMeterReportPayload> {
    const outcome = await gateway.meterReport(gatewayOf(ctx), input);
    return { ...outcome, billedQuantity: outcome.metered?.billedQuantity ?? null, includedRemaining: outcome.metered?.includedRemaining ?? null };
  }
}
