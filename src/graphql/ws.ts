import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { execute, type ExecutionArgs, type GraphQLSchema, subscribe } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { type WebSocket, WebSocketServer } from 'ws';
import type { MemberPrincipal } from '../auth/access';
import { type AuthSettings, authenticate, InvalidTokenError, type Principal, stillValidTokens } from '../auth/principal';
import type { Deps } from '../deps';
import { type Context, createContext } from './context';
import { documentCache } from './document-cache';
import { shuttingDown, unauthenticated } from './errors';
import { formatWsError } from './faults';
import { costLimited } from './limits';
import { textInputError } from './text-inputs';
import { MAX_BODY_BYTES } from '../http/body';
import { GRAPHQL_PATH } from '../http/router';
import { withRequestId } from '../logger';
import { type Metrics, operationLabel } from '../observability/metrics';
import type { Admission, Stoppable, Worker } from '../worker';
import { EVERY_REPLICA, TOPICS } from '../realtime/pubsub';

/** graphql-ws close codes: a token refused (not retried by clients), a fault of ours (retried). */
const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_TRY_AGAIN_LATER = 1013;
/** How long a shutdown waits for the answers of WebSocket operations already accepted. */
const SHUTDOWN_ANSWER_MS = 10_000;

/** The token of `connectionParams.authorization` (or `Authorization`), sent as `Bearer <t>` or bare. */
function connectionToken(params: Record<string, unknown> | undefined): string | null {
  const value = params?.authorization ?? params?.Authorization;
  if (typeof value !== 'string') return null;
  return /^\s*(?:Bearer\s+)?(\S+)\s*$/i.exec(value)?.[1] ?? null;
}

interface MemberSocket {
  principal: MemberPrincipal;
  socket: WebSocket;
}

/**
 * A member's connection lives on its token: once the token is revoked (or the member removed),
 * on any replica, the revocation published on the bus closes its connection with 4401 at once;
 * a periodic check of the open connections' tokens catches what the bus missed (Redis away).
 */
class TokenRecheck implements Worker {
  readonly name = 'token recheck';
  private readonly members = new Set<MemberSocket>();
  private revocations: AsyncIterableIterator<unknown> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly services: Pick<Deps, 'em' | 'bus' | 'logger'>,
    private readonly intervalMs: number,
  ) {}

  add(member: MemberSocket): void {
    this.members.add(member);
  }

  delete(member: MemberSocket): void {
    this.members.delete(member);
  }

  close(member: MemberSocket): void {
    member.socket.close(CLOSE_UNAUTHORIZED, 'Unauthorized: the access token was revoked');
  }

  async start(): Promise<void> {
    const { em, bus, logger } = this.services;
    const revocations = bus.subscribe(TOPICS.accessRevoked, EVERY_REPLICA);
    this.revocations = revocations;
    void (async () => {
      for await (const { tokenIds, memberIds } of revocations) {
        for (const member of this.members) {
          if (tokenIds.includes(member.principal.tokenId) || memberIds.includes(member.principal.memberId)) this.close(member);
        }
      }
    })().catch((error) => logger.warn({ err: error }, 'revocations no longer followed'));
    this.timer = setInterval(() => {
      if (this.members.size === 0) return;
      const open = [...this.members];
      stillValidTokens(em.fork(), [...new Set(open.map((member) => member.principal.tokenId))])
        .then((valid) => {
          for (const member of open) if (!valid.has(member.principal.tokenId)) this.close(member);
        })
        .catch((error) => logger.warn({ err: error }, 'subscription tokens not checked'));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    // Not awaited: with Redis away, unsubscribing would wait for it; closing the bus ends it.
    void this.revocations?.return?.().catch(() => undefined);
  }
}

/**
 * Each operation of a connection, by its id, from its subscribe message until it completes;
 * `awaitsAnswer` while a query or mutation has not been answered yet.
 */
type Operations = Map<string, { startedAt: bigint; requestId: string; awaitsAnswer: boolean }>;

export interface WsServerOptions {
  httpServer: Server;
  schema: GraphQLSchema;
  services: Deps;
  auth: AuthSettings;
  metrics: Metrics;
  admission: Admission;
  /** How often open subscriptions' tokens are checked again. */
  tokenRecheckMs: number;
}

/**
 * graphql-ws on the HTTP server's GraphQL path. The server stops by answering the queries and
 * mutations it accepted (for at most 10 s) and then closing the sockets; the token recheck is a
 * worker of its own.
 */
export function startWsServer(options: WsServerOptions): { server: Stoppable; tokenRecheck: Worker } {
  const { schema, services, auth, metrics, admission } = options;
  const { em, logger } = services;
  // A larger message is refused like a larger HTTP body: ws closes the connection with 1009 (Message Too Big).
  const wsServer = new WebSocketServer({ server: options.httpServer, path: GRAPHQL_PATH, maxPayload: MAX_BODY_BYTES });
  const documents = documentCache();
  const tokenRecheck = new TokenRecheck(services, options.tokenRecheckMs);
  /**
   * graphql-ws's execute or subscribe, in the operation's log scope, refusing text inputs that
   * break the rule before anything runs (over HTTP the Apollo plugin does the same).
   */
  const atEdge =
    <R>(run: (args: ExecutionArgs) => R) =>
    (args: ExecutionArgs) =>
      withRequestId((args.contextValue as Context).requestId, () => {
        const refused = textInputError(args.schema, args.document, args.variableValues, args.operationName);
        return refused ? { errors: [refused] } : run(args);
      });
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
  const wsCleanup = useServer<Record<string, unknown>, { principal?: Principal; member?: MemberSocket; operations?: Operations }>(
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
          tokenRecheck.add(ctx.extra.member);
        }
        return true;
      },
      onClose: (ctx) => {
        if (ctx.extra.member) tokenRecheck.delete(ctx.extra.member);
        // Nothing more can be sent on it.
        for (const id of ctx.extra.operations?.keys() ?? []) answered(ctx.extra.operations, id);
      },
      onSubscribe: async (ctx, id, payload) => {
        if (admission.stopping) return [shuttingDown()];
        // A syntax error is the client's: answered for this operation (as over HTTP), where
        // graphql-ws would close the whole connection with 4500.
        const syntaxError = documents.syntaxError(payload.query);
        if (syntaxError) return [syntaxError];
        // Each operation of a member's connection is authorized against the token as it is now:
        // a revocation made on any replica a moment ago holds for it.
        if (ctx.extra.member && !(await stillValidTokens(em.fork(), [ctx.extra.member.principal.tokenId])).size) {
          const { member } = ctx.extra;
          setImmediate(() => tokenRecheck.close(member));
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

  return {
    server: {
      name: 'websockets',
      async stop() {
        await Promise.race([allAnswered(), new Promise((resolve) => setTimeout(resolve, SHUTDOWN_ANSWER_MS).unref())]);
        // Closes the sockets with 1001.
        await wsCleanup.dispose();
      },
    },
    tokenRecheck,
  };
}
