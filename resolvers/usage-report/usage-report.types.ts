import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { UsageGroup } from '../../src/analytics/usage-report';
import { CountScalar, TokenCountScalar } from '../../src/graphql/count.scalar';
import { MoneyScalar } from '../../src/graphql/money.scalar';

registerEnumType(UsageGroup, { name: 'UsageGroup', description: 'What a usage report groups by; DAY is the UTC day' });

@InputType({ description: 'Gateway spend (model calls and metered extras) in [from, to), at most 366 days, of the given subjects (all when left out)' })
export class UsageFilterInput {
  @Field(() => ID, { nullable: true, description: 'Platform admin only: the organization (members see their own)' })
  organizationId?: string | null;

  @Field()
  from!: Date;

  @Field()
  to!: Date;

  @Field(() => ID, { nullable: true })
  workspaceId?: string | null;

  @Field(() => [ID], { nullable: true })
  projectIds?: string[] | null;

  @Field(() => [ID], { nullable: true })
  identityIds?: string[] | null;

  @Field(() => [ID], { nullable: true })
  apiKeyIds?: string[] | null;

  @Field(() => [String], { nullable: true })
  models?: string[] | null;

  @Field(() => [ID], { nullable: true, description: 'Calls made with keys these members owned at the time' })
  memberIds?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Metered extras of these meters (model calls have no meter)' })
  meters?: string[] | null;
}

@ObjectType('UsageAmounts', { description: 'Captured gateway spend' })
export class UsageAmountsType {
  @Field(() => MoneyScalar, { description: 'What was charged: providerCost + markup + meteredCost' })
  cost!: bigint;

  @Field(() => MoneyScalar, { description: "The providers' cost of the calls (charges from before routing markups count whole)" })
  providerCost!: bigint;

  @Field(() => MoneyScalar, { description: 'The markups of the routing modes' })
  markup!: bigint;

  @Field(() => MoneyScalar, { description: "Metered extras beyond the workspaces' monthly allowances" })
  meteredCost!: bigint;

  @Field(() => TokenCountScalar)
  inputTokens!: bigint;

  @Field(() => TokenCountScalar)
  outputTokens!: bigint;

  @Field(() => CountScalar, { description: 'Charged model calls' })
  requests!: bigint;
}

@ObjectType('UsageRow', { description: 'One group: the values it is grouped by (null for the others) and its sums' })
export class UsageRowType extends UsageAmountsType {
  @Field(() => Date, { nullable: true, description: 'The start of the UTC day' })
  day!: Date | null;

  @Field(() => String, { nullable: true })
  model!: string | null;

  @Field(() => String, { nullable: true, description: 'METER groups: the meter; null for model calls' })
  meter!: string | null;
}

@ObjectType('UsageReport')
export class UsageReportType {
  @Field(() => [UsageRowType], { description: 'Ordered by the grouped values; one row with the total when not grouped' })
  rows!: UsageRowType[];

  @Field(() => UsageAmountsType)
  total!: UsageAmountsType;
}

