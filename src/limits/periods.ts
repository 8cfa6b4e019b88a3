/** Calendar periods in UTC; weeks start on Monday. */
export enum Period {
  DAILY = 'DAILY',
  WEEKLY = 'WEEKLY',
  MONTHLY = 'MONTHLY',
  YEARLY = 'YEARLY',
}

/** The periods a key's limits may reset on. */
export enum KeyLimitPeriod {
  DAILY = 'DAILY',
  WEEKLY = 'WEEKLY',
  MONTHLY = 'MONTHLY',
}

export const ALL_PERIODS = [Period.DAILY, Period.WEEKLY, Period.MONTHLY, Period.YEARLY] as const;

/** Each period's unit for PostgreSQL's `date_trunc` (which starts weeks on Monday too). */
export const PERIOD_UNITS: Record<Period, 'day' | 'week' | 'month' | 'year'> = {
  [Period.DAILY]: 'day',
  [Period.WEEKLY]: 'week',
  [Period.MONTHLY]: 'month',
  [Period.YEARLY]: 'year',
};

export function periodStart(period: Period | KeyLimitPeriod, at: Date): Date {
  const year = at.getUTCFullYear();
  const month = at.getUTCMonth();
  const day = at.getUTCDate();
  switch (period) {
    case Period.DAILY:
      return new Date(Date.UTC(year, month, day));
    case Period.WEEKLY: {
      const sinceMonday = (at.getUTCDay() + 6) % 7;
      return new Date(Date.UTC(year, month, day - sinceMonday));
    }
    case Period.MONTHLY:
      return new Date(Date.UTC(year, month, 1));
    case Period.YEARLY:
      return new Date(Date.UTC(year, 0, 1));
  }
  throw new Error(`unknown period ${String(period)}`);
}

/** When the period that contains `at` ends, and the next one begins. */
export function periodEnd(period: Period | KeyLimitPeriod, at: Date): Date {
  const start = periodStart(period, at);
  const [year, month, day] = [start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()];
  switch (period) {
    case Period.DAILY:
      return new Date(Date.UTC(year, month, day + 1));
    case Period.WEEKLY:
      return new Date(Date.UTC(year, month, day + 7));
    case Period.MONTHLY:
      return new Date(Date.UTC(year, month + 1, 1));
    case Period.YEARLY:
      return new Date(Date.UTC(year + 1, 0, 1));
  }
  throw new Error(`unknown period ${String(period)}`);
}
