import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { ApolloServer, HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import { type AuthSettings, authenticate, InvalidTokenError, type Principal } from '../auth/principal';
import type { Deps } from '../deps';
import { type Context, createContext } from './context';
import { shuttingDown, unauthenticated } from './errors';
import { maskedFault } from './faults';
import { MAX_QUERY_COST, MAX_QUERY_DEPTH, maxDepthRule, operationCost, tooCostly } from './limits';
import { textInputError } from './text-inputs';
import { currentRequestId } from '../logger';
import type { Metrics } from '../observability/metrics';
import type { Admission, Stoppable } from '../worker';
import { BodyTooLargeError, MAX_BODY_BYTES, readBody, sendJson } from '../http/body';

export interface ApolloOptions {
  schema: GraphQLSchema;
  /** Drained by Apollo as it stops. */
  httpServer: Server;
  services: Deps;
  auth: AuthSettings;
  metrics: Metrics;
  admission: Admission;
}

/** GraphQL over HTTP; stopping it drains the HTTP server. */
export interface GraphQLOverHttp extends Stoppable {
  handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void>;
  /** Answers a request that arrives once the shutdown began: not run, so nothing of it is committed. */
  refuseWhileStopping(res: ServerResponse): void;
}

/**
 * Serves GraphQL over node:http through Apollo's `executeHTTPGraphQLRequest` (no express: its
 * overhead halves throughput on this hardware, see STACK-NOTES.md).
 */
export async function startApollo(options: ApolloOptions): Promise<GraphQLOverHttp> {
  const { schema, services, auth, admission } = options;
  const { em, logger } = services;

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
      ApolloServerPluginDrainHttpServer({ httpServer: options.httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      options.metrics.apolloPlugin(),
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

  return {
    name: 'apollo',
    stop: () => apollo.stop(),
    refuseWhileStopping(res) {
      // The client sends it again elsewhere.
      res.setHeader('connection', 'close');
      sendJson(res, 503, { errors: [shuttingDown().toJSON()] });
    },
    async handle(req, res, requestId) {
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
      if (admission.stopping) res.setHeader('connection', 'close');
      res.statusCode = response.status ?? 200;
      if (response.body.kind === 'complete') {
        res.end(response.body.string);
        return;
      }
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    },
  };
}
