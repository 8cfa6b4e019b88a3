import type { EntityManager } from '@mikro-orm/postgresql';
import type { Principal } from '../auth/principal';
import type { EventBus } from '../realtime/pubsub';
import { createLoaders, type Loaders } from './loaders';

export interface Context {
  principal: Principal;
  /** This request's own fork: nothing is shared between requests. */
  em: EntityManager;
  bus: EventBus;
  loaders: Loaders;
  /**
   * Drops what this request has read so far. Called after each mutation, so that its payload
   * and any later field of the same request read the state the write left behind.
   */
  forgetReads(): void;
}

export function createContext(rootEm: EntityManager, bus: EventBus, principal: Principal): Context {
  const em = rootEm.fork();
  return {
    principal,
    em,
    bus,
    loaders: createLoaders(em),
    forgetReads() {
      this.em = rootEm.fork();
      this.loaders = createLoaders(this.em);
    },
  };
}
