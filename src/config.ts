import { z } from 'zod';
import { DEFAULT_AUTO_TOP_UP_SETTINGS } from './payments/auto-top-up.settings';
import { DEFAULT_BONUS_TIERS } from './payments/bonus';

const tokenList = z
  .string()
  .transform((text) => text.split(',').map((token) => token.trim()).filter(Boolean))
  .pipe(z.array(z.string().min(16, 'each token needs at least 16 characters')));

const originList = z
  .string()
  .transform((text) => text.split(',').map((origin) => origin.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^https?:\/\/[^/?#\s]+$/, 'each origin is scheme://host[:port], without a path, e.g. https://dashboard.example.com')));

const bonusTiers = z
  .string()
  .transform((text) =>
    text
      .split(',')
      .map((tier) => tier.trim())
      .filter(Boolean)
      .map((tier) => {
        const [fromUsd, percent] = tier.split(':').map(Number);
        return { fromUsd, percent };
      }),
  )
  .pipe(z.array(z.object({ fromUsd: z.number().int().positive(), percent: z.number().int().min(1).max(100) })));

const variables = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// URL')
    .optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().min(1).optional(),
  TOLLGATE_DATA_DIR: z.string().min(1).default('.tollgate-data'),
  TOLLGATE_ADMIN_TOKEN: z.string().min(16, 'needs at least 16 characters').optional(),
  TOLLGATE_GATEWAY_TOKENS: tokenList.default([]),
  /** Browser origins allowed to call the API (CORS), comma-separated. */
  TOLLGATE_CORS_ORIGINS: originList.default([]),
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  STRIPE_SECRET_KEY: z.string().min(1).optional(),
  /** The signing secret of the webhook endpoint (whsec_…), to verify POST /webhooks/stripe. */
  STRIPE_WEBHOOK_SECRET: z.string().min(1).optional(),
  /** Bonus credits by purchase size: "USD:percent" from that amount up, comma-separated. */
  TOLLGATE_BONUS_TIERS: bonusTiers.default(DEFAULT_BONUS_TIERS),
  /** A Stripe-compatible API to talk to instead of api.stripe.com, e.g. http://127.0.0.1:12111. */
  STRIPE_API_BASE: z
    .string()
    .regex(/^https?:\/\/[^/]+/, 'must be an http(s) URL such as https://api.stripe.com')
    .optional(),
  /** Auto top-ups per wallet in any 24 hours, a guard against runaway charges. */
  TOLLGATE_AUTO_TOP_UP_DAILY_LIMIT: z.coerce.number().int().min(1).max(1000).default(DEFAULT_AUTO_TOP_UP_SETTINGS.dailyLimit),
  /** The wait before a declined auto top-up is tried again; doubled for the next try. */
  TOLLGATE_AUTO_TOP_UP_RETRY_SECONDS: z.coerce.number().int().min(0).max(86_400).default(DEFAULT_AUTO_TOP_UP_SETTINGS.retryDelaySeconds),
  /** Whether auto top-ups earn the bonus tiers like manual purchases. */
  TOLLGATE_AUTO_TOP_UP_BONUS: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .default(DEFAULT_AUTO_TOP_UP_SETTINGS.bonus),
  /** Lets alert webhooks go to loopback, private and link-local addresses (refused by default). */
  TOLLGATE_ALERT_WEBHOOK_ALLOW_PRIVATE: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .default(false),
  /** How long a background job may run before another instance takes it over as lost. */
  TOLLGATE_JOB_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /**
   * How long idempotency answers are kept, in hours (7 days by default). A retry after that is
   * judged afresh: a new request, charged again.
   */
  TOLLGATE_IDEMPOTENCY_RETENTION_HOURS: z.coerce.number().int().min(1).max(87_600).default(168),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

// The embedded demo hands out its owner token (printed, and in GraphiQL), so it is reachable from
// this machine only unless HOST says otherwise; a deployment with its own database serves everyone.
const schema = variables.transform((config) => ({ ...config, HOST: config.HOST ?? (config.DATABASE_URL ? '0.0.0.0' : '127.0.0.1') }));

export type Config = z.infer<typeof schema>;

export class ConfigError extends Error {}

/** Reads the configuration; an invalid value stops start-up with the variable's name. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = schema.safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}
