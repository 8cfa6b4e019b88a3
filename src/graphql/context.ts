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
}

export function createContext(rootEm: EntityManager, bus: EventBus, principal: Principal): Context {
  const em = rootEm.fork();
  return { principal, em, bus, loaders: createLoaders(em) };
}
