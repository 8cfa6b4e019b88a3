import { MikroORM } from '@mikro-orm/postgresql';
import 'reflect-metadata';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { ormConfig } from '../../mikro-orm.config';
import { createLogger, type Logger } from '../../src/logger';
import { type App, type AppOptions, startApp } from '../../src/app';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
export const GATEWAY_TOKEN = 'test-gateway-token-0123456789abcdef';

export interface GraphQLResult<T = any> {
  status: number;
  data?: T;
  errors?: Array<{ message: string; extensions?: { code?: string; [key: string]: unknown } }>;
}

export interface TestApp {
  orm: MikroORM;
  server: App;
  /** Sends one GraphQL request over HTTP, as a client would. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResult<T>>;
  /** Like gql, but fails the test on any top-level error. */
  data<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<T>;
  close(): Promise<void>;
}

export type TestAppOptions = Partial<
  Pick<
    AppOptions,
    'bus' | 'clock' | 'holdTtlMs' | 'stripe' | 'stripeWebhookSecret' | 'autoTopUp' | 'jobs' | 'cors' | 'tokenRecheckMs' | 'alertWebhookAllowPrivate' | 'logger' | 'storage'
  >
> & {
  /** Another way to the run's database (through a relay, say), or a database of its own. */
  databaseUrl?: string;
  /** Migrate `databaseUrl` first (a fresh database). */
  migrate?: boolean;
};

/** What the helpers need of a server: GraphQL over HTTP. */
export type GraphQLClient = Pick<TestApp, 'gql' | 'data'>;

/** A GraphQL client of the server at `baseUrl` (its endpoint is `/graphql`). */
export function graphqlClient(baseUrl: string): GraphQLClient {
  const gql = async (query: string, variables: Record<string, unknown> = {}, token?: string) => {
    const response = await fetch(`${baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, ...((await response.json()) as object) } as GraphQLResult;
  };
  return {
    gql,
    async data(query, variables, token) {
      const result = await gql(query, variables, token);
      if (result.errors) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
      return result.data;
    },
  };
}

/**
 * The real server on the run's database (or on `databaseUrl`: another way to it, or a fresh one
 * to `migrate` first), on a free loopback port. Alert webhooks may go to private addresses: the
 * suite's receivers listen on this machine, and every server on the run's database may deliver
 * any test's alerts.
 */
export async function startTestApp({ databaseUrl, migrate, ...options }: TestAppOptions = {}): Promise<TestApp> {
  const url = databaseUrl ?? process.env.TOLLGATE_TEST_DATABASE_URL;
  if (!url) throw new Error('TOLLGATE_TEST_DATABASE_URL is not set: run the tests with jest (see test/support/global-setup.ts)');
  const orm = await MikroORM.init(ormConfig(url, 10));
  if (migrate) await orm.getMigrator().up();
  const server = await startApp({
    em: orm.em,
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    auth: { adminTokens: [ADMIN_TOKEN], gatewayTokens: [GATEWAY_TOKEN] },
    port: 0,
    host: '127.0.0.1',
    alertWebhookAllowPrivate: true,
    ...options,
  });
  return {
    orm,
    server,
    ...graphqlClient(server.url),
    async close() {
      await server.close();
      await orm.close(true);
    },
  };
}

/** Boots the app before the file's tests and closes it after them. */
export function useTestApp(options: TestAppOptions = {}): TestApp {
  const app = {} as TestApp;
  beforeAll(async () => {
    Object.assign(app, await startTestApp(options));
  });
  afterAll(() => app.close());
  return app;
}

/** A graphql-ws client of the app (or of the server at a base URL), authenticated with `token`, that does not reconnect. */
export function subscriptionClient(target: TestApp | string, token: string) {
  const baseUrl = typeof target === 'string' ? target : target.server.url;
  return createClient({
    url: `${baseUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
}

/** One operation over graphql-ws, answered as over HTTP: its (first) result, or the errors of an `error` message. */
export async function wsResult(client: Client, query: string, variables: Record<string, unknown> = {}): Promise<Omit<GraphQLResult, 'status'>> {
  const results = client.iterate({ query, variables });
  try {
    const { value } = await results.next();
    return value as Omit<GraphQLResult, 'status'>;
  } catch (errors) {
    if (Array.isArray(errors)) return { errors };
    throw errors;
  } finally {
    await results.return?.();
  }
}

/** A logger like the server's own, whose JSON lines the test reads. */
export function capturedLogger(): { logger: Logger; lines(): Array<Record<string, any>>; text(): string } {
  const written: string[] = [];
  const logger = createLogger('info', { write: (line: string) => void written.push(line) });
  return { logger, lines: () => written.map((line) => JSON.parse(line)), text: () => written.join('') };
}
