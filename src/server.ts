import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { EntityManager } from '@mikro-orm/postgresql';
import { execute, type ExecutionArgs, GraphQLError, subscribe } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { type WebSocket, WebSocketServer } from 'ws';
import type { MemberPrincipal } from './auth/access';
import { type AuthSettings, authenticate, InvalidTokenError, type Principal, stillValidTokens } from './auth/principal';
import { DebitEngine } from './gateway/engine';
import type Stripe from 'stripe';
import { type BonusTier, DEFAULT_BONUS_TIERS } from './payments/bonus';
import { handleStripeWebhook } from './payments/webhooks';
import { type AutoTopUpSettings, DEFAULT_AUTO_TOP_UP_SETTINGS } from './payments/auto-top-up.settings';
import { AutoTopUps } from './payments/auto-top-up.worker';
import { AlertWebhooks } from './alerts/alert-webhooks';
import { costLimited, MAX_QUERY_COST, MAX_QUERY_DEPTH, maxDepthRule, operationCost, tooCostly } from './graphql/limits';
import { Metrics, operationLabel } from './observability/metrics';
import { readiness } from './observability/readiness';
import { type JobQueue, startJobQueue } from './jobs/queue';
import { type Context, createContext, type ServerServices } from './graphql/context';
import { GRAPHIQL_ASSET_PATH, graphiqlAssets, graphiqlPages } from './graphiql';
import { documentCache } from './graphql/document-cache';
import { unauthenticated } from './graphql/errors';
import { formatWsError, maskedFault } from './graphql/faults';
import { textInputError } from './graphql/text-inputs';
import { buildGraphqlSchema } from './graphql/schema';
import { currentRequestId, type Logger, withRequestId } from './logger';
import { createEventBus, type EventBus, measuredBus } from './realtime/pubsub';

export const GRAPHQL_PATH = '/graphql';
/** Larger bodies are refused before parsing (a batch of 1,000 gateway debits fits well inside). */
export const MAX_BODY_BYTES = 1024 * 1024;
const REQUEST_ID = /^[\w.:-]{1,128}$/;

export interface ServerOptions {
  em: EntityManager;
  auth: AuthSettings;
  logger: Logger;
  port: number;
  host: string;
  bus?: EventBus;
  /** Injectable for tests of periods, windows and expiries. */
  clock?: () => Date;
  /** How long gateway holds last unless captured or released. */
  holdTtlMs?: number;
  /** The Stripe client, if payments are configured. */
  stripe?: Stripe | null;
  /** The signing secret of the Stripe webhook endpoint. */
  stripeWebhookSecret?: string;
  bonusTiers?: BonusTier[];
  /** Background jobs (auto top-ups, alert webhooks) in the application's database; none without it. */
  jobs?: { timeoutSeconds?: number; pollingSeconds?: number; alertRelayMs?: number };
  autoTopUp?: AutoTopUpSettings;
  /** How often open subscriptions' tokens are checked again; a revoked one's connection is closed. */
  tokenRecheckMs?: number;
  /** Embedded demo mode only: the token GraphiQL fills in for a browser on this machine, so that the first query just runs. */
  graphiqlToken?: string | null;
}

export interface RunningServer {
  /** The base URL, e.g. http://127.0.0.1:4000 */
  url: string;
  port: number;
  bus: EventBus;
  gateway: DebitEngine;
  /** Present when payments and jobs are both configured. */
  autoTopUps: AutoTopUps | null;
  /** Present with jobs. */
  alertWebhooks: AlertWebhooks | null;
  jobs: JobQueue | null;
  close(): Promise<void>;
}

class BodyTooLargeError extends Error {}

/** The body as text; past the limit the rest is read and dropped so that the 413 reaches the client. */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => (size > MAX_BODY_BYTES ? reject(new BodyTooLargeError()) : resolve(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

/**
 * Serves GraphQL over node:http through Apollo's `executeHTTPGraphQLRequest` (no express: its
 * overhead halves throughput on this hardware, see STACK-NOTES.md), graphql-ws on the same port,
 * and the operational endpoints beside them.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { em, auth, logger } = options;
  const metrics = new Metrics();
  const bus = measuredBus(options.bus ?? createEventBus(), (topic, seconds) => metrics.pubsubLag.observe({ topic }, seconds));
  const now = options.clock ?? (() => new Date());
  const stripe = options.stripe ?? null;
  const bonusTiers = options.bonusTiers ?? DEFAULT_BONUS_TIERS;
  const jobs = options.jobs ? await startJobQueue({ em, jobTimeoutSeconds: options.jobs.timeoutSeconds ?? 60, logger }) : null;
  const autoTopUpSettings = options.autoTopUp ?? DEFAULT_AUTO_TOP_UP_SETTINGS;
  const autoTopUps = jobs && stripe ? new AutoTopUps({ em, bus, stripe, bonusTiers, jobs, logger, autoTopUp: autoTopUpSettings }) : null;
  await autoTopUps?.startWorkers(options.jobs?.pollingSeconds ?? 2);
  const alertWebhooks = jobs ? new AlertWebhooks({ em, jobs, logger }) : null;
  await alertWebhooks?.start(options.jobs?.alertRelayMs ?? 1000, options.jobs?.pollingSeconds ?? 2);
  const gateway = new DebitEngine({
    em,
    bus,
    onBatch: (seconds, outcomes) => metrics.gatewayBatch(seconds, outcomes),
    clock: now,
    holdTtlMs: options.holdTtlMs,
    onBelowTopUpThreshold: autoTopUps ? (walletIds) => autoTopUps.walletsBelowThreshold(walletIds) : undefined,
  });
  const services: ServerServices = { em, bus, gateway, now, stripe, bonusTiers, autoTopUp: autoTopUpSettings };
  const schema = await buildGraphqlSchema();
  // Idle keep-alive connections are kept longer than the load balancers' usual 60 s (Node's 5 s
  // default makes a proxy, or a busy client, send on a socket the server is just closing: a
  // reset or a request lost), and the headers may take as long.
  const httpServer: Server = createServer({ keepAliveTimeout: 65_000, headersTimeout: 66_000 });

  const principalOf = async (authorization: string | undefined): Promise<Principal> => {
    try {
      return await authenticate(em.fork(), auth, authorization);
    } catch (error) {
      if (error instanceof InvalidTokenError) throw unauthenticated(error.message);
      throw error;
    }
  };

  const apollo = new ApolloServer<Context>({
    schema,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    // The process's own signal handler stops everything in order (main.ts); Apollo's would race it.
    stopOnTerminationSignals: false,
    validationRules: [maxDepthRule(MAX_QUERY_DEPTH)],
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      metrics.apolloPlugin(),
      {
        // Refused before it runs: text inputs that break the rule; a cost that depends on the
        // variables (page sizes), known only now.
        requestDidStart: async () => ({
          didResolveOperation: async ({ document, request, operationName }) => {
            const refused = textInputError(schema, document, request.variables, operationName);
            if (refused) throw refused;
            const cost = operationCost(schema, document, request.variables, operationName);
            if (cost > MAX_QUERY_COST) throw tooCostly(cost);
          },
        }),
      },
    ],
    formatError: (formatted, error) => (formatted.extensions?.code === 'INTERNAL_SERVER_ERROR' ? maskedFault(logger, error, currentRequestId()) : formatted),
  });
  await apollo.start();

  async function handleGraphQL(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    let body: unknown;
    try {
      const text = await readBody(req);
      body = headers.get('content-type')?.includes('application/json') && text ? JSON.parse(text) : text;
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        sendJson(res, 413, { errors: [{ message: `The request body exceeds ${MAX_BODY_BYTES} bytes`, extensions: { code: 'BAD_REQUEST' } }] });
      } else {
        sendJson(res, 400, { errors: [{ message: 'The request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] });
      }
      return;
    }
    const httpGraphQLRequest: HTTPGraphQLRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      headers,
      search: new URL(req.url ?? '/', 'http://localhost').search,
      body,
    };
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest,
      context: async () => createContext(services, await principalOf(headers.get('authorization')), requestId),
    });
    for (const [name, value] of response.headers) res.setHeader(name, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  }

  async function handleWebhook(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const signature = req.headers['stripe-signature'];
    const answer = await handleStripeWebhook(services, options.stripeWebhookSecret, await readBody(req), Array.isArray(signature) ? signature[0] : signature);
    sendJson(res, answer.status, answer.body);
  }

  const graphiqlAsset = graphiqlAssets();
  const graphiql = graphiqlPages(options.graphiqlToken ?? null);

  httpServer.on('request', (req, res) => {
    // A caller's own request id is kept (a proxy's, say), so that its logs and ours line up.
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', requestId);
    withRequestId(requestId, () => {
      const started = process.hrtime.bigint();
      res.on('finish', () =>
        logger.debug({ method: req.method, path: req.url, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request served'),
      );
      route(req, res, requestId);
    });
  });

  function route(req: IncomingMessage, res: ServerResponse, requestId: string): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path === GRAPHQL_PATH && req.method === 'GET' && !url.searchParams.has('query') && req.headers.accept?.includes('text/html')) {
      // A browser opening the endpoint gets GraphiQL; GraphQL over GET stays with Apollo.
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(graphiql(req));
    } else if (path.startsWith(GRAPHIQL_ASSET_PATH) && req.method === 'GET') {
      const asset = graphiqlAsset(path.slice(GRAPHIQL_ASSET_PATH.length));
      if (!asset) return sendJson(res, 404, { error: 'not found' });
      res.writeHead(200, { 'content-type': asset.contentType, 'cache-control': 'public, max-age=3600' });
      res.end(asset.body);
    } else if (path === GRAPHQL_PATH) {
      handleGraphQL(req, res, requestId).catch((error) => {
        logger.error({ err: error }, 'HTTP request failed');
        if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error' }] });
        else res.destroy();
      });
    } else if (path === '/webhooks/stripe' && req.method === 'POST') {
      handleWebhook(req, res).catch((error) => {
        logger.error({ err: error }, 'Stripe webhook failed');
        // Stripe delivers it again later.
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      });
    } else if (path === '/healthz') {
      sendJson(res, 200, { status: 'ok' });
    } else if (path === '/readyz') {
      void readiness(em, bus).then(({ ready, ...answer }) => sendJson(res, ready ? 200 : 503, answer));
    } else if (path === '/metrics') {
      metrics.registry
        .metrics()
        .then((text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(text);
        })
        .catch((error) => {
          logger.error({ err: error }, 'metrics not collected');
          sendJson(res, 500, { error: 'metrics not collected' });
        });
    } else {
      sendJson(res, 404, { error: 'not found' });
    }
  }

  let stopping = false;
  const shuttingDown = () =>
    new GraphQLError('The server is shutting down: send it again, to another replica (with the same idempotency key)', {
      extensions: { code: 'SHUTTING_DOWN' },
    });
  const wsServer = new WebSocketServer({ server: httpServer, path: GRAPHQL_PATH });
  const documents = documentCache();
  const members = new Set<{ principal: MemberPrincipal; socket: WebSocket }>();
  /**
   * graphql-ws's execute or subscribe, in the operation's log scope, refusing text inputs that
   * break the rule before anything runs (over HTTP the Apollo plugin above does the same).
   */
  const atEdge =
    <R>(run: (args: ExecutionArgs) => R) =>
    (args: ExecutionArgs) =>
      withRequestId((args.contextValue as Context).requestId, () => {
        const refused = textInputError(args.schema, args.document, args.variableValues, args.operationName);
        return refused ? { errors: [refused] } : run(args);
      });
  /** Each operation of a connection, by its id, from its subscribe message until it completes. */
  type Operations = Map<string, { startedAt: bigint; requestId: string }>;
  const wsCleanup = useServer<
    Record<string, unknown>,
    { principal?: Principal; member?: { principal: MemberPrincipal; socket: WebSocket }; operations?: Operations }
  >(
    {
      schema,
      parse: documents.parse,
      validate: documents.validate,
      execute: atEdge(costLimited(execute)),
      subscribe: atEdge(costLimited(subscribe)),
      // Authenticated once per connection, from connectionParams as browsers cannot set headers.
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const authorization = (params.authorization ?? params.Authorization) as string | undefined;
        try {
          ctx.extra.principal = await principalOf(authorization);
        } catch {
          return false;
        }
        if (ctx.extra.principal.kind === 'MEMBER') {
          ctx.extra.member = { principal: ctx.extra.principal, socket: ctx.extra.socket };
          members.add(ctx.extra.member);
        }
        return true;
      },
      onClose: (ctx) => {
        if (ctx.extra.member) members.delete(ctx.extra.member);
      },
      onSubscribe: (ctx, id) => {
        if (stopping) return [shuttingDown()];
        (ctx.extra.operations ??= new Map()).set(id, { startedAt: process.hrtime.bigint(), requestId: randomUUID() });
      },
      onOperation: (ctx, id, payload, args, result) => {
        const started = ctx.extra.operations?.get(id)?.startedAt;
        if (started === undefined) return;
        const ok = !('errors' in result && result.errors?.length);
        metrics.operation('ws', operationLabel(args.document, payload.operationName), Number(process.hrtime.bigint() - started) / 1e9, ok);
      },
      // Errors go out as over HTTP: coded, faults masked with the operation's request id.
      onNext: (ctx, id, _payload, _args, result) =>
        result.errors && { ...result, errors: result.errors.map((error) => formatWsError(logger, error, ctx.extra.operations?.get(id)?.requestId)) },
      onError: (ctx, id, _payload, errors) => {
        const requestId = ctx.extra.operations?.get(id)?.requestId;
        ctx.extra.operations?.delete(id);
        return errors.map((error) => formatWsError(logger, error, requestId));
      },
      onComplete: (ctx, id) => void ctx.extra.operations?.delete(id),
      // onSubscribe, which comes first, gave the operation its request id.
      context: (ctx, id) => createContext(services, ctx.extra.principal ?? { kind: 'ANONYMOUS' }, ctx.extra.operations!.get(id)!.requestId),
    },
    wsServer,
  );

  // A member's connection lives on its token: once the token is revoked (or the member removed),
  // on any replica, its subscriptions end with 4403 at the next check.
  const tokenRecheck = setInterval(() => {
    if (members.size === 0) return;
    const open = [...members];
    stillValidTokens(em.fork(), [...new Set(open.map((member) => member.principal.tokenId))])
      .then((valid) => {
        for (const member of open) if (!valid.has(member.principal.tokenId)) member.socket.close(4403, 'Forbidden: the access token was revoked');
      })
      .catch((error) => logger.warn({ err: error }, 'subscription tokens not checked'));
  }, options.tokenRecheckMs ?? 2000);
  tokenRecheck.unref();

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port, options.host, () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  const shownHost = options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host;

  return {
    url: `http://${shownHost}:${port}`,
    port,
    bus,
    gateway,
    autoTopUps,
    alertWebhooks,
    jobs,
    async close() {
      // New operations on open WebSockets are refused; the debits already submitted commit and
      // are answered on them before they close with 1001. Then HTTP stops accepting and drains.
      stopping = true;
      clearInterval(tokenRecheck);
      await gateway.drain();
      await wsCleanup.dispose();
      httpServer.closeIdleConnections();
      await apollo.stop();
      await gateway.drain();
      await autoTopUps?.stop();
      await alertWebhooks?.stop();
      await jobs?.stop({ graceful: true, timeout: 10_000 });
    },
  };
}
