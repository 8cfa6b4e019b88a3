import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DenialCode, RoutingMode } from '../../src/gateway/contract';
import { MoneyScalar } from '../../src/graphql/money.scalar';
import { CountScalar, TokenCountScalar } from '../../src/graphql/count.scalar';
import { NodeInterface } from '../common.types';

registerEnumType(DenialCode, {
  name: 'GatewayDenialCode',
  description: 'Why the gateway must refuse the request; `httpStatus` says what to answer its client',
});

@ObjectType({ description: 'A refusal, with the HTTP status the gateway should return to its own client' })
export class GatewayDenial {
  @Field(() => DenialCode)
  code!: DenialCode;

  @Field()
  message!: string;

  @Field(() => Int)
  httpStatus!: number;

  @Field(() => Int, {
    nullable: true,
    description: 'When to try again: for rate limits, when a request will be allowed again; for INSUFFICIENT_CREDITS, set while an auto top-up of the wallet is under way',
  })
  retryAfterSeconds!: number | null;
}

@ObjectType({ description: "What is left of the API key's limits after this request" })
export class GatewayKeyLimits {
  @Field(() => MoneyScalar, { nullable: true, description: 'Null when the key has no cost limit' })
  costRemaining!: bigint | null;

  @Field(() => TokenCountScalar, { nullable: true, description: 'Null when the key has no token limit' })
  tokensRemaining!: bigint | null;

  @Field(() => Int, { nullable: true, description: 'In the current 60-second window; null without a rate limit' })
  requestsRemaining!: number | null;

  @Field({ description: 'When the cost and token limits start a new period' })
  resetAt!: Date;
}

@ObjectType('GatewayHold', { implements: NodeInterface, description: 'Credits reserved for one in-flight request' })
export class GatewayHold extends NodeInterface {
  @Field(() => MoneyScalar)
  amount!: bigint;

  @Field()
  expiresAt!: Date;
}

/** Fields every gateway answer has. */
@ObjectType()
export abstract class GatewayAnswer {
  @Field()
  allowed!: boolean;

  @Field(() => GatewayDenial, { nullable: true })
  denial!: GatewayDenial | null;

  @Field(() => MoneyScalar, { nullable: true, description: "The wallet's balance minus its active holds, after this request" })
  availableBalance!: bigint | null;
}

@ObjectType()
export class GatewayAuthorizePayload extends GatewayAnswer {
  @Field(() => GatewayHold, { nullable: true })
  hold!: GatewayHold | null;

  @Field(() => GatewayKeyLimits, { nullable: true })
  limits!: GatewayKeyLimits | null;
}

@ObjectType()
export class GatewayDebitPayload extends GatewayAnswer {
  @Field(() => MoneyScalar, { nullable: true, description: 'What the request cost, markup included' })
  cost!: bigint | null;

  @Field(() => ID, { nullable: true, description: 'The DEDUCTION row; null when the cost was zero' })
  transactionId!: string | null;

  @Field(() => GatewayKeyLimits, { nullable: true })
  limits!: GatewayKeyLimits | null;
}

@ObjectType()
export class GatewayCapturePayload extends GatewayAnswer {
  @Field(() => MoneyScalar, { nullable: true, description: 'What the request cost, markup included' })
  cost!: bigint | null;

  @Field(() => MoneyScalar, {
    nullable: true,
    description: 'What was charged: the cost, or the whole available balance when that was less',
  })
  charged!: bigint | null;

  @Field(() => ID, { nullable: true })
  transactionId!: string | null;

  @Field(() => GatewayHold, { nullable: true })
  hold!: GatewayHold | null;
}

@ObjectType()
export class GatewayReleasePayload extends GatewayAnswer {
  @Field(() => GatewayHold, { nullable: true })
  hold!: GatewayHold | null;
}

@ObjectType()
export class GatewayMeterReportPayload extends GatewayAnswer {
  @Field(() => MoneyScalar, { nullable: true, description: 'What the units beyond the allowance cost (0 within it); charged as a METERED row' })
  cost!: bigint | null;

  @Field(() => CountScalar, { nullable: true, description: 'Of the units reported, those beyond the monthly allowance' })
  billedQuantity!: bigint | null;

  @Field(() => CountScalar, { nullable: true, description: "What is left of the workspace's allowance of the meter this month" })
  includedRemaining!: bigint | null;

  @Field(() => ID, { nullable: true, description: 'The METERED row; null when nothing was charged' })
  transactionId!: string | null;

  @Field(() => GatewayKeyLimits, { nullable: true })
  limits!: GatewayKeyLimits | null;
}

@ObjectType()
export class GatewayDebitBatchPayload {
  @Field(() => [GatewayDebitPayload], { description: 'One answer per input, in order' })
  results!: GatewayDebitPayload[];
}

registerEnumType(RoutingMode, {
  name: 'RoutingMode',
  description: 'How the gateway chose the model; each mode has its markup',
  valuesConfig: {
    DIRECT: { description: "The model the client named: the workspace's own markup" },
    AUTO: { description: 'Chosen by the router (+10% unless the operator set otherwise)' },
    TIER: { description: 'Chosen by tier (+8% unless the operator set otherwise)' },
  },
});

/** What a call used, as a debit or capture reports it; counts left out are 0. */
@InputType()
export abstract class CallUsageInput {
  @Field(() => Int, { description: 'Input tokens not read from the cache nor written to it' })
  inputTokens!: number;

  @Field(() => Int, { description: 'Output tokens, reasoning apart' })
  outputTokens!: number;

  @Field(() => Int, { nullable: true, description: "Input read from the provider's cache" })
  cachedInputTokens?: number | null;

  @Field(() => Int, { nullable: true, description: "Input written to the provider's cache" })
  cacheWriteTokens?: number | null;

  @Field(() => Int, { nullable: true })
  reasoningTokens?: number | null;

  @Field(() => Int, { nullable: true, description: 'Images generated or read' })
  images?: number | null;

  @Field(() => MoneyScalar, {
    nullable: true,
    description: "The provider's own cost of the call (bring-your-own-key, web search, tools): charged with the markup instead of the catalog's price",
  })
  providerCost?: bigint | null;
}

@InputType()
export class GatewayDebitInput extends CallUsageInput {
  @Field({ description: "The customer's API key, as the gateway received it" })
  apiKey!: string;

  @Field({ description: 'Unique per request; a retry with the same key is answered as the first time' })
  idempotencyKey!: string;

  @Field()
  model!: string;

  @Field(() => String, { nullable: true, description: "The end user's id in the customer's app; created on first use" })
  identity?: string | null;

  @Field(() => RoutingMode, { nullable: true, description: 'Left out: DIRECT' })
  routingMode?: RoutingMode | null;
}

@InputType()
export class GatewayDebitBatchInput {
  @Field(() => [GatewayDebitInput], { description: '1 to 1,000 debits, each decided as gatewayDebit would' })
  debits!: GatewayDebitInput[];
}

@InputType()
export class GatewayAuthorizeInput {
  @Field()
  apiKey!: string;

  @Field()
  idempotencyKey!: string;

  @Field()
  model!: string;

  @Field(() => String, { nullable: true })
  identity?: string | null;

  @Field(() => RoutingMode, { nullable: true, description: 'Left out: DIRECT' })
  routingMode?: RoutingMode | null;

  @Field(() => Int, { nullable: true, description: 'The worst case of the call, to hold its cost: each maximum left out holds nothing for it' })
  maxInputTokens?: number | null;

  @Field(() => Int, { nullable: true })
  maxOutputTokens?: number | null;

  @Field(() => Int, { nullable: true })
  maxCachedInputTokens?: number | null;

  @Field(() => Int, { nullable: true })
  maxCacheWriteTokens?: number | null;

  @Field(() => Int, { nullable: true })
  maxReasoningTokens?: number | null;

  @Field(() => Int, { nullable: true })
  maxImages?: number | null;

  @Field(() => MoneyScalar, { nullable: true, description: "The most the provider may report; the hold is the dearer of this (with the markup) and the maxima at the price" })
  maxProviderCost?: bigint | null;
}

@InputType()
export class GatewayCaptureInput extends CallUsageInput {
  @Field(() => ID)
  holdId!: string;
}

@InputType()
export class GatewayReleaseInput {
  @Field(() => ID)
  holdId!: string;
}

@InputType()
export class GatewayMeterReportInput {
  @Field()
  apiKey!: string;

  @Field({ description: 'Unique per report; a retry with the same key is answered as the first time' })
  idempotencyKey!: string;

  @Field({ description: 'A meter the operator defined (meterSet), e.g. `trace`' })
  meter!: string;

  @Field(() => CountScalar, { description: 'Units used since the last report, 1 to 1,000,000' })
  quantity!: bigint;

  @Field(() => String, { nullable: true, description: "The end user's id in the customer's app, whose budget counts the charge" })
  identity?: string | null;
}
