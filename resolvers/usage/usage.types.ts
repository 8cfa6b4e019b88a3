import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { MoneyScalar } from '../../src/graphql/money.scalar';
import { Period } from '../../src/limits/periods';
import type { UsageSnapshot } from '../../src/limits/usage';

registerEnumType(Period, {
  name: 'BudgetPeriod',
  description: 'The UTC calendar period a budget resets on (weeks start on Monday)',
});

@ObjectType({
  description:
    'Captured spend in the current UTC calendar periods (weeks start on Monday); amounts held for requests still in flight are not included',
})
export class Usage {
  @Field(() => MoneyScalar)
  daily!: bigint;

  @Field(() => MoneyScalar)
  weekly!: bigint;

  @Field(() => MoneyScalar)
  monthly!: bigint;

  @Field(() => MoneyScalar)
  yearly!: bigint;
}

export function usageOf(snapshot: UsageSnapshot): Usage {
  return {
    daily: snapshot.spent(Period.DAILY),
    weekly: snapshot.spent(Period.WEEKLY),
    monthly: snapshot.spent(Period.MONTHLY),
    yearly: snapshot.spent(Period.YEARLY),
  };
}
