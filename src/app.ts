import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EntityManager } from '@mikro-orm/postgresql';
import type Stripe from 'stripe';
import { AlertWebhooks } from './alerts/alert-webhooks';
import { WebhookDestinations } from './alerts/webhook-destinations';
import type { AuthSettings } from './auth/principal';
import type { Deps } from './deps';
import { DebitEngine } from './gateway/engine';
import { buildGraphqlSchema } from './graphql/schema';
import { startApollo } from './graphql/http';
import type { CorsSettings } from './http/cors';
import { router } from './http/router';
import { JobQueueWorker } from './jobs/queue';
import type { Logger } from './logger';
import { Metrics } from './observability/metrics';
import { type AutoTopUpSettings, DEFAULT_AUTO_TOP_UP_SETTINGS } from './payments/auto-top-up.settings';
import { AutoTopUps } from './payments/auto-top-up.worker';
import { EnterpriseInvoices } from './enterprise/invoices';
import { type BonusTier, DEFAULT_BONUS_TIERS } from './payments/bonus';
import { createEventBus, type EventBus, measuredBus } from './realtime/pubsub';
import { startWsServer } from './graphql/ws';
import { type StorageSettings, StorageMaintenance } from './storage/maintenance';
import { Admission, type Stoppable, stoppable, type Worker } from './worker';

/** Connections waiting to be accepted (the kernel caps it at net.core.somaxconn). */
const LISTEN_BACKLOG = 4096;

export interface AppOptions {
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
  jobs?: { timeoutSeconds?: number; pollingSeconds?: number; alertRelayMs?: number; invoiceCheckMs?: number };
  autoTopUp?: AutoTopUpSettings;
  /** Lets alert webhooks go to loopback, private and link-local addresses too (TOLLGATE_ALERT_WEBHOOK_ALLOW_PRIVATE). */
  alertWebhookAllowPrivate?: boolean;
  /** How often open subscriptions' tokens are checked again; a revoked one's connection is closed. */
  tokenRecheckMs?: number;
  /** Browser origins allowed to call the API; none by default. */
  cors?: CorsSettings;
  /** The purge of expired idempotency answers; none without it (tests opt in: it deletes by the injected clock). */
  storage?: StorageSettings;
  /** Embedded demo mode only: the token GraphiQL fills in for a browser on this machine, so that the first query just runs. */
  graphiqlToken?: string | null;
}

export interface App {
  /** The base URL, e.g. http://127.0.0.1:4000 */
  url: string;
  port: number;
  bus: EventBus;
  /**
   * The background workers, each started with the app and stopped by `close()`; null where not
   * configured. A worker stopped or started on its own is for tests and operations.
   */
  workers: {
    /** Present with jobs. */
    jobs: Worker | null;
    /** Present when payments and jobs are both configured. */
    autoTopUps: AutoTopUps | null;
    /** Present with jobs. */
    alertWebhooks: AlertWebhooks | null;
    /** Present when payments and jobs are both configured. */
    enterpriseInvoices: EnterpriseInvoices | null;
    /** Present with `storage`. */
    storage: StorageMaintenance | null;
  };
  /** Stops everything, in order; the database and the bus are the caller's. */
  close(): Promise<void>;
}

/**
 * The composition root: builds the dependencies once (the domain's `Deps`, metrics, background
 * workers), serves them over HTTP and graphql-ws on one port, and owns the order in which all of
 * it starts and stops.
 */
export async function startApp(options: AppOptions): Promise<App> {
  const { em, auth, logger } = options;
  const metrics = new Metrics();
  const bus = measuredBus(options.bus ?? createEventBus(), metrics.busObserver());
  const now = options.clock ?? (() => new Date());
  const stripe = options.stripe ?? null;
  const bonusTiers = options.bonusTiers ?? DEFAULT_BONUS_TIERS;
  const autoTopUp = options.autoTopUp ?? DEFAULT_AUTO_TOP_UP_SETTINGS;
  const pollingSeconds = options.jobs?.pollingSeconds ?? 2;
  const jobs = options.jobs ? new JobQueueWorker({ em, jobTimeoutSeconds: options.jobs.timeoutSeconds ?? 60, logger }) : null;
  const autoTopUps = jobs && stripe ? new AutoTopUps({ em, bus, now, stripe, bonusTiers, jobs: jobs.queue, logger, autoTopUp }, pollingSeconds) : null;
  const webhookDestinations = new WebhookDestinations(options.alertWebhookAllowPrivate ?? false);
  const alertWebhooks = jobs
    ? new AlertWebhooks({ em, now, jobs: jobs.queue, logger, destinations: webhookDestinations }, { relayMs: options.jobs?.alertRelayMs ?? 1000, pollingSeconds })
    : null;
  // Enterprise accounts' month-end check runs every minute, so a month's invoices go out within one of its end.
  const enterpriseInvoices =
    jobs && stripe ? new EnterpriseInvoices({ em, now, logger, stripe, jobs: jobs.queue }, { checkMs: options.jobs?.invoiceCheckMs ?? 60_000, pollingSeconds }) : null;
  const storage = options.storage
    ? new StorageMaintenance({ em, now, logger, onPurged: (count) => metrics.idempotencyKeysPurged.inc(count) }, options.storage)
    : null;
  const gateway = new DebitEngine({
    em,
    bus,
    onBatch: (seconds, outcomes) => metrics.gatewayBatch(seconds, outcomes),
    clock: now,
    holdTtlMs: options.holdTtlMs,
    autoTopUps: autoTopUps ?? undefined,
  });
  const services: Deps = { em, bus, gateway, now, logger, stripe, bonusTiers, autoTopUp, autoTopUps, jobs: jobs?.queue ?? null, webhookDestinations };
  // The queue before the workers that take its jobs.
  for (const worker of [jobs, autoTopUps, alertWebhooks, enterpriseInvoices, storage]) await worker?.start();

  const schema = await buildGraphqlSchema();
  // Idle keep-alive connections are kept longer than the load balancers' usual 60 s (Node's 5 s
  // default makes a proxy, or a busy client, send on a socket the server is just closing: a
  // reset or a request lost), and the headers may take as long.
  const httpServer: Server = createServer({ keepAliveTimeout: 65_000, headersTimeout: 66_000 });
  const admission = new Admission();
  const apollo = await startApollo({ schema, httpServer, services, auth, metrics, admission });
  httpServer.on(
    'request',
    router({
      services,
      graphql: apollo,
      metrics,
      admission,
      stripeWebhookSecret: options.stripeWebhookSecret,
      cors: options.cors ?? { origins: [], loopback: false },
      graphiqlToken: options.graphiqlToken ?? null,
    }),
  );
  const ws = startWsServer({ httpServer, schema, services, auth, metrics, admission, tokenRecheckMs: options.tokenRecheckMs ?? 2000 });
  await ws.tokenRecheck.start();

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    // A deeper accept queue than Node's 511: a burst of new connections (thousands of gateway
    // calls at once) waits to be accepted instead of being dropped and reset by the kernel.
    httpServer.listen({ port: options.port, host: options.host, backlog: LISTEN_BACKLOG }, () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  const shownHost = options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host;

  // From the admission's close on, new operations are refused (WebSocket: SHUTTING_DOWN; HTTP:
  // 503 with Connection: close), so nothing more is committed; what was accepted commits and is
  // answered on its own connection. Then the WebSockets close with 1001, and HTTP stops
  // accepting, finishes its responses (Connection: close) and closes its sockets (Apollo's
  // drain). The gateway is drained again for what those last requests submitted, and the
  // workers stop before the queue they work for.
  const gatewayDrain = stoppable('gateway', () => gateway.drain());
  const shutdown: Array<Stoppable | null> = [admission, ws.tokenRecheck, gatewayDrain, ws.server, apollo, gatewayDrain, autoTopUps, alertWebhooks, enterpriseInvoices, storage, jobs];

  return {
    url: `http://${shownHost}:${port}`,
    port,
    bus,
    workers: { jobs, autoTopUps, alertWebhooks, enterpriseInvoices, storage },
    async close() {
      for (const part of shutdown) {
        if (!part) continue;
        logger.debug({ part: part.name }, 'stopping');
        await part.stop();
      }
    },
  };
}
