import type { Principal } from '../auth/principal';
import type { Deps } from '../deps';
import { createLoaders, type Loaders } from './loaders';

export interface Context extends Deps {
  principal: Principal;
  /** The id of this request (HTTP) or operation (graphql-ws): on its log lines and its masked errors. */
  requestId: string;
  loaders: Loaders;
  /**
   * Drops what this request has read so far. Called after each mutation, so that its payload
   * and any later field of the same request read the state the write left behind.
   */
  forgetReads(): void;
}

/** `deps.em` is the server's root EntityManager: each request gets its own fork of it, used as is by the services. */
export function createContext(services: Deps, principal: Principal, requestId: string): Context {
  const em = services.em.fork();
  return {
    ...services,
    principal,
    requestId,
    em,
    loaders: createLoaders(em, services.now),
    forgetReads() {
      this.em = services.em.fork();
      this.loaders = createLoaders(this.em, services.now);
    },
  };
}
