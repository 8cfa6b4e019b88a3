const NANO_PER_USD = 1_000_000_000n;

/** Bonus credits from `fromUsd` up, as a percentage of the amount paid. */
export interface BonusTier {
  fromUsd: number;
  percent: number;
}

/** Seed 004: +10% from $50, +15% from $100, +20% from $250, +25% from $500. */
export const DEFAULT_BONUS_TIERS: BonusTier[] = [
  { fromUsd: 50, percent: 10 },
  { fromUsd: 100, percent: 15 },
  { fromUsd: 250, percent: 20 },
  { fromUsd: 500, percent: 25 },
];

/** The bonus of the highest tier the amount reaches; exact, as amounts are whole cents. */
export function bonusFor(amount: bigint, tiers: BonusTier[]): bigint {
  const tier = [...tiers].sort((a, b) => b.fromUsd - a.fromUsd).find((candidate) => amount >= BigInt(candidate.fromUsd) * NANO_PER_USD);
  return tier ? (amount * BigInt(tier.percent)) / 100n : 0n;
}
