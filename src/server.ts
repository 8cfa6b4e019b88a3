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
import { WebhookDestinations } from './alerts/webhook-destinations';
import { costLimited, MAX_QUERY_COST, MAX_QUERY_DEPTH, maxDepthRule, operationCost, tooCostly } from './graphql/limits';
import { Metrics, operationLabel } from './observability/metrics';
import { readiness } from './observability/readiness';
import { type JobQueue, startJobQueue } from './jobs/queue';
import { type Context, createContext } from './graphql/context';
import type { Deps } from './deps';
import { GRAPHIQL_ASSET_PATH, graphiqlAssets, graphiqlPages } from './graphiql';
import { type CorsSettings, corsHandler } from './http/cors';
import { documentCache } from './graphql/document-cache';
import { unauthenticated } from './graphql/errors';
import { formatWsError, maskedFault } from './graphql/faults';
import { textInputError } from './graphql/text-inputs';
import { buildGraphqlSchema } from './graphql/schema';
import { currentRequestId, type Logger, withRequestId } from './logger';
import { createEventBus, type EventBus, EVERY_REPLICA, measuredBus, TOPICS } from './realtime/pubsub';

export const GRAPHQL_PATH = '/graphql';
/** Larger bodies are refused before parsing (a batch of 1,000 gateway debits fits well inside). */
export const MAX_BODY_BYTES = 1024 * 1024;
const REQUEST_ID = /^[\w.:-]{1,128}$/;
/** graphql-ws close codes: a token refused (not retried by clients), a fault of ours (retried). */
const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_TRY_AGAIN_LATER = 1013;
/** Connections waiting to be accepted (the kernel caps it at net.core.somaxconn). */
const LISTEN_BACKLOG = 4096;
/** How long a shutdown waits for the answers of WebSocket operations already accepted. */
const SHUTDOWN_ANSWER_MS = 10_000;

/** The token of `connectionParams.authorization` (or `Authorization`), sent as `Bearer <t>` or bare. */
function connectionToken(params: Record<string, unknown> | undefined): string | null {
  const value = params?.authorization ?? params?.Authorization;
  if (typeof value !== 'string') return null;
  return /^\s*(?:Bearer\s+)?(\S+)\s*$/i.exec(value)?.[1] ?? null;
}

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
  /** Lets alert webhooks go to loopback, private and link-local addresses too (TOLLGATE_ALERT_WEBHOOK_ALLOW_PRIVATE). */
  alertWebhookAllowPrivate?: boolean;
  /** How often open subscriptions' tokens are checked again; a revoked one's connection is closed. */
  tokenRecheckMs?: number;
  /** Browser origins allowed to call the API; none by default. */
  cors?: CorsSettings;
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
  const bus = measuredBus(options.bus ?? createEventBus(), metrics.busObserver());
  const now = options.clock ?? (() => new Date());
  const stripe = options.stripe ?? null;
  const bonusTiers = options.bonusTiers ?? DEFAULT_BONUS_TIERS;
  const jobs = options.jobs ? await startJobQueue({ em, jobTimeoutSeconds: options.jobs.timeoutSeconds ?? 60, logger }) : null;
  const autoTopUpSettings = options.autoTopUp ?? DEFAULT_AUTO_TOP_UP_SETTINGS;
  const autoTopUps = jobs && stripe ? new AutoTopUps({ em, bus, now, stripe, bonusTiers, jobs, logger, autoTopUp: autoTopUpSettings }) : null;
  await autoTopUps?.startWorkers(options.jobs?.pollingSeconds ?? 2);
  const webhookDestinations = new WebhookDestinations(options.alertWebhookAllowPrivate ?? false);
  const alertWebhooks = jobs ? new AlertWebhooks({ em, now, jobs, logger, destinations: webhookDestinations }) : null;
  await alertWebhooks?.start(options.jobs?.alertRelayMs ?? 1000, options.jobs?.pollingSeconds ?? 2);
  const gateway = new DebitEngine({
    em,
    bus,
    onBatch: (seconds, outcomes) => metrics.gatewayBatch(seconds, outcomes),
    clock: now,
    holdTtlMs: options.holdTtlMs,
    autoTopUps: autoTopUps ?? undefined,
  });
  const services: Deps = { em, bus, gateway, now, logger, stripe, bonusTiers, autoTopUp: autoTopUpSettings, autoTopUps, jobs, webhookDestinations };
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

  let stopping = false;
  const shuttingDown = () =>
    new GraphQLError('The server is shutting down: send it again, to another replica (with the same idempotency key)', {
      extensions: { code: 'SHUTTING_DOWN' },
    });

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
    // Accepted before the shutdown began: answered, and the client told not to send more here.
    if (stopping) res.setHeader('connection', 'close');
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
  const cors = corsHandler(options.cors ?? { origins: [], loopback: false });
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
    } else if (path === GRAPHQL_PATH && stopping) {
      // Not run, so nothing of it is committed: the client sends it again elsewhere.
      res.setHeader('connection', 'close');
      sendJson(res, 503, { errors: [shuttingDown().toJSON()] });
    } else if (path === GRAPHQL_PATH) {
      // CORS answers a preflight itself; everything else goes on to GraphQL.
      cors(req, res, () =>
        handleGraphQL(req, res, requestId).catch((error) => {
          logger.error({ err: error }, 'HTTP request failed');
          if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error' }] });
          else res.destroy();
        }),
      );
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

  // A larger message is refused like a larger HTTP body: ws closes the connection with 1009 (Message Too Big).
  const wsServer = new WebSocketServer({ server: httpServer, path: GRAPHQL_PATH, maxPayload: MAX_BODY_BYTES });
  const documents = documentCache();
  const members = new Set<{ principal: MemberPrincipal; socket: WebSocket }>();
  const closeRevoked = (member: { socket: WebSocket }) => member.socket.close(CLOSE_UNAUTHORIZED, 'Unauthorized: the access token was revoked');
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
  /**
   * Each operation of a connection, by its id, from its subscribe message until it completes;
   * `awaitsAnswer` while a query or mutation has not been answered yet.
   */
  type Operations = Map<string, { startedAt: bigint; requestId: string; awaitsAnswer: boolean }>;
  // A shutdown sends the answers of the queries and mutations it accepted before it closes the
  // sockets (subscriptions are long-lived and simply end).
  let unanswered = 0;
  let onAllAnswered: (() => void) | null = null;
  const answered = (operations: Operations | undefined, id: string) => {
    const operation = operations?.get(id);
    if (!operation?.awaitsAnswer) return;
    operation.awaitsAnswer = false;
    unanswered -= 1;
    if (unanswered === 0) onAllAnswered?.();
  };
  const allAnswered = () => new Promise<void>((resolve) => (unanswered === 0 ? resolve() : (onAllAnswered = resolve)));
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
      // graphql-ws clients retry 4403 and 1013 but not 4401: a bad token must not be retried in
      // silence forever, while a fault of ours must be.
      onConnect: async (ctx) => {
        const refuse = (code: number, reason: string) => {
          ctx.extra.socket.close(code, reason);
          return false;
        };
        const token = connectionToken(ctx.connectionParams);
        if (!token) return refuse(CLOSE_UNAUTHORIZED, 'Unauthorized: send the token as connectionParams.authorization');
        try {
          ctx.extra.principal = await authenticate(em.fork(), auth, `Bearer ${token}`);
        } catch (error) {
          if (error instanceof InvalidTokenError) return refuse(CLOSE_UNAUTHORIZED, 'Unauthorized: the token is invalid or has been revoked');
          logger.error({ err: error }, 'WebSocket connection not authenticated');
          return refuse(CLOSE_TRY_AGAIN_LATER, 'Try again later');
        }
        if (ctx.extra.principal.kind === 'MEMBER') {
          ctx.extra.member = { principal: ctx.extra.principal, socket: ctx.extra.socket };
          members.add(ctx.extra.member);
        }
        return true;
      },
      onClose: (ctx) => {
        if (ctx.extra.member) members.delete(ctx.extra.member);
        // Nothing more can be sent on it.
        for (const id of ctx.extra.operations?.keys() ?? []) answered(ctx.extra.operations, id);
      },
      onSubscribe: async (ctx, id, payload) => {
        if (stopping) return [shuttingDown()];
        // A syntax error is the client's: answered for this operation (as over HTTP), where
        // graphql-ws would close the whole connection with 4500.
        const syntaxError = documents.syntaxError(payload.query);
        if (syntaxError) return [syntaxError];
        // Each operation of a member's connection is authorized against the token as it is now:
        // a revocation made on any replica a moment ago holds for it.
        if (ctx.extra.member && !(await stillValidTokens(em.fork(), [ctx.extra.member.principal.tokenId])).size) {
          const { member } = ctx.extra;
          setImmediate(() => closeRevoked(member));
          return [unauthenticated('The access token was revoked')];
        }
        (ctx.extra.operations ??= new Map()).set(id, { startedAt: process.hrtime.bigint(), requestId: randomUUID(), awaitsAnswer: true });
        unanswered += 1;
      },
      onOperation: (ctx, id, payload, args, result) => {
        if (Symbol.asyncIterator in result) answered(ctx.extra.operations, id);
        const started = ctx.extra.operations?.get(id)?.startedAt;
        if (started === undefined) return;
        const ok = !('errors' in result && result.errors?.length);
        metrics.operation('ws', operationLabel(args.document, payload.operationName), Number(process.hrtime.bigint() - started) / 1e9, ok);
      },
      // Errors go out as over HTTP: coded, faults masked with the operation's request id.
      onNext: (ctx, id, _payload, _args, result) =>
        result.errors && { ...result, errors: result.errors.map((error) => formatWsError(logger, error, ctx.extra.operations?.get(id)?.requestId)) },
      // onError comes as its message is sent, onComplete once the answer was sent.
      onError: (ctx, id, _payload, errors) => {
        const requestId = ctx.extra.operations?.get(id)?.requestId;
        answered(ctx.extra.operations, id);
        ctx.extra.operations?.delete(id);
        return errors.map((error) => formatWsError(logger, error, requestId));
      },
      onComplete: (ctx, id) => {
        answered(ctx.extra.operations, id);
        ctx.extra.operations?.delete(id);
      },
      // onSubscribe, which comes first, gave the operation its request id.
      context: (ctx, id) => createContext(services, ctx.extra.principal ?? { kind: 'ANONYMOUS' }, ctx.extra.operations!.get(id)!.requestId),
    },
    wsServer,
  );
  // ws reports a client that broke the protocol (1009 for a message over maxPayload) after it has
  // closed the socket with the right code: a client's mistake, not the "internal error" that
  // graphql-ws's listener (added just before this one) prints to stderr.
  wsServer.on('connection', (socket) => {
    socket.removeAllListeners('error');
    socket.on('error', (error) => logger.debug({ err: error }, 'WebSocket client broke the protocol'));
  });

  // A member's connection lives on its token: once the token is revoked (or the member removed),
  // on any replica, the revocation published on the bus closes its connection with 4401 at once;
  // a periodic check of the open connections' tokens catches what the bus missed (Redis away).
  const revocations = bus.subscribe(TOPICS.accessRevoked, EVERY_REPLICA);
  void (async () => {
    for await (const { tokenIds, memberIds } of revocations) {
      for (const member of members) {
        if (tokenIds.includes(member.principal.tokenId) || memberIds.includes(member.principal.memberId)) closeRevoked(member);
      }
    }
  })().catch((error) => logger.warn({ err: error }, 'revocations no longer followed'));
  const tokenRecheck = setInterval(() => {
    if (members.size === 0) return;
    const open = [...members];
    stillValidTokens(em.fork(), [...new Set(open.map((member) => member.principal.tokenId))])
      .then((valid) => {
        for (const member of open) if (!valid.has(member.principal.tokenId)) closeRevoked(member);
      })
      .catch((error) => logger.warn({ err: error }, 'subscription tokens not checked'));
  }, options.tokenRecheckMs ?? 2000);
  tokenRecheck.unref();

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    // A deeper accept queue than Node's 511: a burst of new connections (thousands of gateway
    // calls at once) waits to be accepted instead of being dropped and reset by the kernel.
    httpServer.listen({ port: options.port, host: options.host, backlog: LISTEN_BACKLOG }, () => resolve());
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
      // From now on new operations are refused (WebSocket: SHUTTING_DOWN; HTTP: 503 with
      // Connection: close), so nothing more is committed; what was accepted commits and is
      // answered on its own connection. Then the WebSockets close with 1001, and HTTP stops
      // accepting, finishes its responses (Connection: close) and closes its sockets.
      stopping = true;
      clearInterval(tokenRecheck);
      // Not awaited: with Redis away, unsubscribing would wait for it; closing the bus ends it.
      void revocations.return?.().catch(() => undefined);
      await gateway.drain();
      await Promise.race([allAnswered(), new Promise((resolve) => setTimeout(resolve, SHUTDOWN_ANSWER_MS).unref())]);
      await wsCleanup.dispose();
      await apollo.stop();
      await gateway.drain();
      await autoTopUps?.stop();
      await alertWebhooks?.stop();
      await jobs?.stop({ graceful: true, timeout: 10_000 });
    },
  };
}
