import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { Context } from '../../src/graphql/context';
import { TokenCountScalar } from '../../src/graphql/count.scalar';
import { MoneyScalar } from '../../src/graphql/money.scalar';
import { type BudgetOf, BudgetType, TokenBudgetType } from './budget.types';

const RESET_AT = 'When the current period ends and the budget starts again from zero';

@Resolver(() => BudgetType)
export class BudgetResolver {
  @FieldResolver(() => MoneyScalar, { description: 'What the current period still allows, counting captured spend and active holds, never below 0' })
  async remaining(@Root() budget: BudgetOf, @Ctx() ctx: Context): Promise<bigint> {
    return (await ctx.loaders.usage.load(budget.subjectId)).costRemaining(budget.amount, budget.period)!;
  }

  @FieldResolver(() => Date, { description: RESET_AT })
  async resetAt(@Root() budget: BudgetOf, @Ctx() ctx: Context): Promise<Date> {
    return (await ctx.loaders.usage.load(budget.subjectId)).resetAt(budget.period);
  }
}

@Resolver(() => TokenBudgetType)
export class TokenBudgetResolver {
  @FieldResolver(() => TokenCountScalar, { description: 'What the current period still allows, counting captured and held tokens, never below 0' })
  async remaining(@Root() budget: BudgetOf, @Ctx() ctx: Context): Promise<bigint> {
    return (await ctx.loaders.usage.load(budget.subjectId)).tokensRemaining(budget.amount, budget.period)!;
  }

  @FieldResolver(() => Date, { description: RESET_AT })
  async resetAt(@Root() budget: BudgetOf, @Ctx() ctx: Context): Promise<Date> {
    return (await ctx.loaders.usage.load(budget.subjectId)).resetAt(budget.period);
  }
}
