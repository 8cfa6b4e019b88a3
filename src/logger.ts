import { AsyncLocalStorage } from 'node:async_hooks';
import pino from 'pino';

export type Logger = pino.Logger;

/** The request being served, so that every line logged while serving it carries its id. */
const requestScope = new AsyncLocalStorage<{ requestId: string }>();

export function withRequestId<T>(requestId: string, work: () => T): T {
  return requestScope.run({ requestId }, work);
}

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'tollgate' }, mixin: () => requestScope.getStore() ?? {} });
}
