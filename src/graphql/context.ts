import type { EntityManager } from '@mikro-orm/postgresql';
import type Stripe from 'stripe';
import type { WebhookDestinations } from '../alerts/webhook-destinations';
import type { AutoTopUpSettings } from '../payments/auto-top-up.settings';
import type { BonusTier } from '../payments/bonus';
import type { Principal } from '../auth/principal';
import type { DebitEngine } from '../gateway/engine';
import type { TopUpTrigger } from '../ledger/ledger';
import type { EventBus } from '../realtime/pubsub';
import { createLoaders, type Loaders } from './loaders';

/** What every request of one server shares. */
export interface ServerServices {
  em: EntityManager;
  bus: EventBus;
  gateway: DebitEngine;
  /** The clock of this server: limit periods, resets and expiries are judged against it. */
  now: () => Date;
  stripe: Stripe | null;
  bonusTiers: BonusTier[];
  autoTopUp: AutoTopUpSettings;
  /** Starts auto top-ups; null where this server makes none (no payments or no jobs). */
  autoTopUps: TopUpTrigger | null;
  /** Where alert webhooks may go. */
  webhookDestinations: WebhookDestinations;
}

export interface Context {
  principal: Principal;
  /** The id of this request (HTTP) or operation (graphql-ws): on its log lines and its masked errors. */
  requestId: string;
  /** This request's own fork: nothing is shared between requests. */
  em: EntityManager;
  bus: EventBus;
  gateway: DebitEngine;
  loaders: Loaders;
  now: () => Date;
  stripe: Stripe | null;
  bonusTiers: BonusTier[];
  autoTopUp: AutoTopUpSettings;
  autoTopUps: TopUpTrigger | null;
  webhookDestinations: WebhookDestinations;
  /**
   * Drops what this request has read so far. Called after each mutation, so that its payload
   * and any later field of the same request read the state the write left behind.
   */
  forgetReads(): void;
}

export function createContext(services: ServerServices, principal: Principal, requestId: string): Context {
  const em = services.em.fork();
  return {
    principal,
    requestId,
    em,
    bus: services.bus,
    gateway: services.gateway,
    loaders: createLoaders(em, services.now),
    now: services.now,
    stripe: services.stripe,
    bonusTiers: services.bonusTiers,
    autoTopUp: services.autoTopUp,
    autoTopUps: services.autoTopUps,
    webhookDestinations: services.webhookDestinations,
    forgetReads() {
      this.em = services.em.fork();
      this.loaders = createLoaders(this.em, services.now);
    },
  };
}
