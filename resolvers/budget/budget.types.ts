import { Field, InputType, ObjectType } from 'type-graphql';
import { TokenCountScalar } from '../../src/graphql/count.scalar';
import { MoneyScalar } from '../../src/graphql/money.scalar';
import { KeyLimitPeriod, Period } from '../../src/limits/periods';
import '../usage/usage.types';

/**
 * A budget as its owner (an API key, a project, an identity) has it: what its remaining and
 * reset time are computed from, when asked for, from the owner's usage.
 */
export interface BudgetOf {
  subjectId: string;
  amount: bigint;
  period: Period | KeyLimitPeriod;
}

/** The budget of a subject, or null when it has none. */
export function budgetOf(subjectId: string, amount: bigint | null | undefined, period: Period | KeyLimitPeriod | null | undefined): BudgetOf | null {
  return amount == null || period == null ? null : { subjectId, amount, period };
}

@ObjectType('Budget', { description: 'Most that may be spent per UTC calendar period, and what the current period still allows' })
export class BudgetType {
  @Field(() => MoneyScalar, { description: 'Most that may be spent per period' })
  amount!: bigint;

  @Field(() => Period)
  period!: Period;
}

@ObjectType('TokenBudget', { description: 'Most tokens (input + output) per UTC calendar period, and what the current period still allows' })
export class TokenBudgetType {
  @Field(() => TokenCountScalar, { description: 'Most tokens per period' })
  amount!: bigint;

  @Field(() => Period)
  period!: Period;
}

@InputType({ description: 'A budget to set: at most amount per period' })
export class BudgetInput {
  @Field(() => MoneyScalar, { description: 'USD, not negative' })
  amount!: bigint;

  @Field(() => Period)
  period!: Period;
}

@InputType({ description: 'A token budget to set: at most amount tokens (input + output) per period' })
export class TokenBudgetInput {
  @Field(() => TokenCountScalar)
  amount!: bigint;

  @Field(() => Period)
  period!: Period;
}
