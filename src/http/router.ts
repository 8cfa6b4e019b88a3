import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Deps } from '../deps';
import { GRAPHIQL_ASSET_PATH, graphiqlAssets, graphiqlPages } from '../graphiql';
import { withRequestId } from '../logger';
import type { Metrics } from '../observability/metrics';
import { readiness } from '../observability/readiness';
import { handleStripeWebhook } from '../payments/webhooks';
import type { Admission } from '../worker';
import type { GraphQLOverHttp } from '../graphql/http';
import { readBody, sendJson } from './body';
import { type CorsSettings, corsHandler } from './cors';

export const GRAPHQL_PATH = '/graphql';
const REQUEST_ID = /^[\w.:-]{1,128}$/;

export interface RouterOptions {
  services: Deps;
  graphql: GraphQLOverHttp;
  metrics: Metrics;
  admission: Admission;
  /** The signing secret of the Stripe webhook endpoint. */
  stripeWebhookSecret?: string;
  cors: CorsSettings;
  /** The token GraphiQL fills in for a browser on this machine (embedded demo mode only). */
  graphiqlToken: string | null;
}

/**
 * The HTTP server's request listener: GraphiQL and its assets, GraphQL (503 once the shutdown
 * began, CORS first), the Stripe webhook, and the operational endpoints. Every request gets a
 * request id, in its response and in its log scope.
 */
export function router(options: RouterOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { services, graphql, metrics, admission } = options;
  const { logger } = services;
  const graphiqlAsset = graphiqlAssets();
  const cors = corsHandler(options.cors);
  const graphiql = graphiqlPages(options.graphiqlToken);

  async function handleWebhook(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const signature = req.headers['stripe-signature'];
    const answer = await handleStripeWebhook(services, options.stripeWebhookSecret, await readBody(req), Array.isArray(signature) ? signature[0] : signature);
    sendJson(res, answer.status, answer.body);
  }

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
    } else if (path === GRAPHQL_PATH && admission.stopping) {
      graphql.refuseWhileStopping(res);
    } else if (path === GRAPHQL_PATH) {
      // CORS answers a preflight itself; everything else goes on to GraphQL.
      cors(req, res, () =>
        graphql.handle(req, res, requestId).catch((error) => {
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
      void readiness(services.em, services.bus).then(({ ready, ...answer }) => sendJson(res, ready ? 200 : 503, answer));
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

  return (req, res) => {
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
  };
}
