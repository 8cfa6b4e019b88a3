import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { UsageGroup } from '../../src/analytics/usage-report';
import { MoneyScalar } from '../../src/graphql/money.scalar';
import { CountScalar, TokenCountScalar } from '../../src/graphql/count.scalar';

registerEnumType(UsageGroup, { name: 'UsageGroup', description: 'What a usage report groups by; DAY is the UTC day' });

@InputType({ description: 'Gateway spend in [from, to), at most 366 days, of the given subjects (all when left out)' })
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
}

@ObjectType('UsageAmounts', { description: 'Captured gateway spend' })
export class UsageAmountsType {
  @Field(() => MoneyScalar)
  cost!: bigint;

  @Field(() => TokenCountScalar)
  inputTokens!: bigint;

  @Field(() => TokenCountScalar)
  outputTokens!: bigint;

  @Field(() => CountScalar, { description: 'Charged requests' })
  requests!: bigint;
}

@ObjectType('UsageRow', { description: 'One group: the values it is grouped by (null for the others) and its sums' })
export class UsageRowType extends UsageAmountsType {
  @Field(() => Date, { nullable: true, description: 'The start of the UTC day' })
  day!: Date | null;

  @Field(() => String, { nullable: true })
  model!: string | null;
}

@ObjectType('UsageReport')
export class UsageReportType {
  @Field(() => [UsageRowType], { description: 'Ordered by the grouped values; one row with the total when not grouped' })
  rows!: UsageRowType[];

  @Field(() => UsageAmountsType)
  total!: UsageAmountsType;
}

@ObjectType('SpendRate', { description: "A wallet's gateway spend over a window and where it leads" })
export class SpendRateType {
  @Field(() => Int)
  days!: number;

  @Field(() => MoneyScalar)
  spend!: bigint;

  @Field(() => MoneyScalar, { description: 'spend / days' })
  averageDailySpend!: bigint;

  @Field(() => Date, {
    nullable: true,
    description:
      'When the available balance (less active holds) runs out at this rate, less what auto top-up can add per day (its amount times the daily limit of top-ups, bonuses not counted); null when spend is zero, when auto top-up covers it, or beyond 100 years',
  })
  depletesAt!: Date | null;

  @Field({ description: 'Auto top-up can add at least as much per day as is spent' })
  coveredByAutoTopUp!: boolean;
}

@ObjectType('SpendProjection')
export class SpendProjectionType {
  @Field(() => SpendRateType)
  last7Days!: SpendRateType;

  @Field(() => SpendRateType)
  last30Days!: SpendRateType;
}
