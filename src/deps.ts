import type { EntityManager } from '@mikro-orm/postgresql';
import type Stripe from 'stripe';
import type { WebhookDestinations } from './alerts/webhook-destinations';
import type { DebitEngine } from './gateway/engine';
import type { JobQueue } from './jobs/queue';
import type { TopUpTrigger } from './ledger/ledger';
import type { Logger } from './logger';
import type { AutoTopUpSettings } from './payments/auto-top-up.settings';
import type { BonusTier } from './payments/bonus';
import type { EventBus } from './realtime/pubsub';

/**
 * What the domain works with, built once by the composition root. A domain operation is
 * `(deps, actor, input)`: `deps` the part of this it uses (`Pick<Deps, 'em' | 'bus'>`), `actor`
 * who acts (src/actor.ts), `input` the input object. A request's context is a `Deps` whose `em`
 * is its own fork, so resolvers pass `ctx`; a job or a webhook event forks once for itself.
 */
export interface Deps {
  /** The request's (or job's) EntityManager, used as is. */
  em: EntityManager;
  bus: EventBus;
  /** The clock of this server: limit periods, resets and expiries are judged against it. */
  now: () => Date;
  logger: Logger;
  gateway: DebitEngine;
  /** The Stripe client, if payments are configured. */
  stripe: Stripe | null;
  bonusTiers: BonusTier[];
  autoTopUp: AutoTopUpSettings;
  /** Starts auto top-ups; null where this server makes none (no payments or no jobs). */
  autoTopUps: TopUpTrigger | null;
  /** Background jobs in the application's database; null without them. */
  jobs: JobQueue | null;
  /** Where alert webhooks may go. */
  webhookDestinations: WebhookDestinations;
}
