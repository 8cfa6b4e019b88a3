import { AsyncLocalStorage } from 'node:async_hooks';
import { DriverException } from '@mikro-orm/core';
import pino from 'pino';

export type Logger = pino.Logger;

/** The request being served, so that every line logged while serving it carries its id. */
const requestScope = new AsyncLocalStorage<{ requestId: string }>();

export function withRequestId<T>(requestId: string, work: () => T): T {
  return requestScope.run({ requestId }, work);
}

/** The id of the request being served here, if any. */
export function currentRequestId(): string | undefined {
  return requestScope.getStore()?.requestId;
}

type DatabaseError = Error & { code: string; severity: string; detail?: string; hint?: string };

/** An error of PostgreSQL: node-postgres's own, or MikroORM's copy of it (which keeps its fields). */
function isDatabaseError(error: Error): error is DatabaseError {
  const { code, severity } = error as Partial<DatabaseError>;
  return typeof severity === 'string' && typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

/**
 * PostgreSQL's own message in a MikroORM error, which reads "<statement> - <message>" (knex's
 * form, the values written into the statement by MikroORM), then "\n - detail: …" and
 * "\n - hint: …" when PostgreSQL gave them.
 */
function driverMessage(error: DriverException & Partial<DatabaseError>): string {
  let message = error.message;
  for (const [label, value] of [['hint', error.hint], ['detail', error.detail]]) {
    const suffix = `\n - ${label}: ${value}`;
    if (value && message.endsWith(suffix)) message = message.slice(0, -suffix.length);
  }
  const statementEnd = message.lastIndexOf(' - ');
  return statementEnd < 0 ? message : message.slice(statementEnd + ' - '.length);
}

/**
 * An error as it may be logged: a database error without the values of its statement. Of a
 * MikroORM error only PostgreSQL's message is kept; `detail` (the key or row at fault) goes; a
 * data exception's message (SQLSTATE class 22) quotes the value that did not fit: that goes too.
 * Causes are cleaned the same way.
 */
function withoutValues(error: Error): Error {
  const cause = error.cause instanceof Error ? withoutValues(error.cause) : error.cause;
  const database = isDatabaseError(error);
  if (!database && !(error instanceof DriverException) && cause === error.cause) return error;
  let message = error instanceof DriverException ? driverMessage(error) : error.message;
  if (database && error.code.startsWith('22')) message = message.replace(/"[\s\S]*"/, '"…"');
  const copy = Object.assign(Object.create(Object.getPrototypeOf(error)) as Error, error, { message, cause });
  const frames = (error.stack ?? '').split('\n').filter((line) => line.trimStart().startsWith('at '));
  copy.stack = [`${error.name}: ${message}`, ...frames].join('\n');
  delete (copy as Partial<DatabaseError>).detail;
  return copy;
}

/** JSON lines on stdout, or on `destination`. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'tollgate' },
    mixin: () => requestScope.getStore() ?? {},
    serializers: { err: (error: unknown) => pino.stdSerializers.err(error instanceof Error ? withoutValues(error) : (error as Error)) },
  };
  return destination ? pino(options, destination) : pino(options);
}
