import 'reflect-metadata';
import { ConfigError, loadConfig } from './config';
import { openDatabase } from './db/database';
import { demoDebitCurl } from './demo/example';
import { seedDemo } from './demo/seed';
import { createLogger } from './logger';
import { createStripe } from './payments/stripe';
import { createEventBus, createRedisEventBus } from './realtime/pubsub';
import { startApp } from './app';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const database = await openDatabase(config);
  const em = database.orm.em;
  const bus = config.REDIS_URL ? await createRedisEventBus(config.REDIS_URL, logger) : createEventBus();

  const demo = database.embedded
    ? await seedDemo(em, bus, {
        dataDir: config.TOLLGATE_DATA_DIR,
        logger,
        adminToken: config.TOLLGATE_ADMIN_TOKEN,
        gatewayToken: config.TOLLGATE_GATEWAY_TOKENS[0],
        now: new Date(),
      })
    : null;
  const adminTokens = demo ? [demo.adminToken] : config.TOLLGATE_ADMIN_TOKEN ? [config.TOLLGATE_ADMIN_TOKEN] : [];
  const gatewayTokens = demo ? [...new Set([...config.TOLLGATE_GATEWAY_TOKENS, demo.gatewayToken])] : config.TOLLGATE_GATEWAY_TOKENS;

  const app = await startApp({
    em,
    bus,
    logger,
    auth: { adminTokens, gatewayTokens },
    port: config.PORT,
    host: config.HOST,
    stripe: createStripe(config),
    stripeWebhookSecret: config.STRIPE_WEBHOOK_SECRET,
    bonusTiers: config.TOLLGATE_BONUS_TIERS,
    jobs: { timeoutSeconds: config.TOLLGATE_JOB_TIMEOUT_SECONDS },
    autoTopUp: {
      dailyLimit: config.TOLLGATE_AUTO_TOP_UP_DAILY_LIMIT,
      retryDelaySeconds: config.TOLLGATE_AUTO_TOP_UP_RETRY_SECONDS,
      bonus: config.TOLLGATE_AUTO_TOP_UP_BONUS,
    },
    alertWebhookAllowPrivate: config.TOLLGATE_ALERT_WEBHOOK_ALLOW_PRIVATE,
    storage: { idempotencyRetentionHours: config.TOLLGATE_IDEMPOTENCY_RETENTION_HOURS },
    graphiqlToken: demo?.ownerToken,
    // The embedded demo is a development setup: a dashboard served from this machine may call it.
    cors: { origins: config.TOLLGATE_CORS_ORIGINS, loopback: database.embedded },
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await app.close();
    await bus.close();
    await database.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  // Plain lines on stdout, for people and for scripts that read them.
  const lines = [`GraphQL: ${app.url}/graphql`];
  if (demo) {
    lines.push(
      `Demo owner token: ${demo.ownerToken}`,
      `Admin token: ${demo.adminToken}`,
      `Demo gateway token: ${demo.gatewayToken}`,
      `Demo API key: ${demo.apiKey}`,
      'Try a debit (paste it again for another; watch the balance move in GraphiQL):',
      demoDebitCurl(`${app.url}/graphql`, demo),
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  logger.info({ url: app.url, embedded: database.embedded }, 'tollgate is serving');
}

main().catch((error) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`tollgate failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
});
