import { Field, Int, ObjectType } from 'type-graphql';
import { MoneyScalar } from '../../src/graphql/money.scalar';

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
