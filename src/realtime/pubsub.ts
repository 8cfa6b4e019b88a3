import { createPubSub } from '@graphql-yoga/subscription';

export interface WalletBalanceEvent {
  walletId: string;
  organizationId: string;
  balance: bigint;
  change: bigint;
  transactionId: string;
}

export const TOPICS = { walletBalanceChanged: 'WALLET_BALANCE_CHANGED' } as const;

/** In-process pub/sub; events are published only after the transaction that caused them commits. */
export function createEventBus() {
  return createPubSub<{
    [TOPICS.walletBalanceChanged]: [walletId: string, event: WalletBalanceEvent];
  }>();
}

export type EventBus = ReturnType<typeof createEventBus>;
