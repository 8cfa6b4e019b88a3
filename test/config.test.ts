import { loadConfig } from '../src/config';

describe('configuration from the environment', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PORT: 4000, TOLLGATE_DATA_DIR: '.tollgate-data', TOLLGATE_GATEWAY_TOKENS: [], DB_POOL_SIZE: 10, TOLLGATE_ALERT_WEBHOOK_ALLOW_PRIVATE: false });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('listens on loopback only for the embedded database, everywhere with DATABASE_URL, unless HOST says', () => {
    const databaseUrl = 'postgres://postgres@127.0.0.1:5432/tollgate';
    expect(loadConfig({}).HOST).toBe('127.0.0.1');
    expect(loadConfig({ DATABASE_URL: databaseUrl }).HOST).toBe('0.0.0.0');
    expect(loadConfig({ HOST: '0.0.0.0' }).HOST).toBe('0.0.0.0');
    expect(loadConfig({ DATABASE_URL: databaseUrl, HOST: '10.0.0.5' }).HOST).toBe('10.0.0.5');
  });

  it('lets alert webhooks go to private addresses only when told', () => {
    expect(loadConfig({ TOLLGATE_ALERT_WEBHOOK_ALLOW_PRIVATE: 'true' }).TOLLGATE_ALERT_WEBHOOK_ALLOW_PRIVATE).toBe(true);
    expect(loadConfig({ TOLLGATE_ALERT_WEBHOOK_ALLOW_PRIVATE: 'false' }).TOLLGATE_ALERT_WEBHOOK_ALLOW_PRIVATE).toBe(false);
  });

  it('keeps idempotency answers 7 days by default, at least an hour', () => {
    expect(loadConfig({}).TOLLGATE_IDEMPOTENCY_RETENTION_HOURS).toBe(168);
    expect(loadConfig({ TOLLGATE_IDEMPOTENCY_RETENTION_HOURS: '24' }).TOLLGATE_IDEMPOTENCY_RETENTION_HOURS).toBe(24);
    expect(() => loadConfig({ TOLLGATE_IDEMPOTENCY_RETENTION_HOURS: '0' })).toThrow(/TOLLGATE_IDEMPOTENCY_RETENTION_HOURS/);
    expect(() => loadConfig({ TOLLGATE_IDEMPOTENCY_RETENTION_HOURS: '1.5' })).toThrow(/TOLLGATE_IDEMPOTENCY_RETENTION_HOURS/);
  });

  it('reads a comma-separated list of gateway tokens', () => {
    const config = loadConfig({ TOLLGATE_GATEWAY_TOKENS: 'gateway-token-aaaaaaaa, gateway-token-bbbbbbbb' });
    expect(config.TOLLGATE_GATEWAY_TOKENS).toEqual(['gateway-token-aaaaaaaa', 'gateway-token-bbbbbbbb']);
  });

  it('reads the CORS origins as a comma-separated list, none by default', () => {
    expect(loadConfig({}).TOLLGATE_CORS_ORIGINS).toEqual([]);
    expect(loadConfig({ TOLLGATE_CORS_ORIGINS: 'https://dashboard.example.com, http://localhost:5173' }).TOLLGATE_CORS_ORIGINS).toEqual([
      'https://dashboard.example.com',
      'http://localhost:5173',
    ]);
  });

  it('reads bonus tiers as USD:percent, the seed-004 tiers by default', () => {
    expect(loadConfig({}).TOLLGATE_BONUS_TIERS).toEqual([
      { fromUsd: 50, percent: 10 },
      { fromUsd: 100, percent: 15 },
      { fromUsd: 250, percent: 20 },
      { fromUsd: 500, percent: 25 },
    ]);
    expect(loadConfig({ TOLLGATE_BONUS_TIERS: '20:5, 1000:30' }).TOLLGATE_BONUS_TIERS).toEqual([
      { fromUsd: 20, percent: 5 },
      { fromUsd: 1000, percent: 30 },
    ]);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://localhost/x'],
    ['REDIS_URL', 'localhost:6379'],
    ['TOLLGATE_ADMIN_TOKEN', 'short'],
    ['TOLLGATE_GATEWAY_TOKENS', 'ok-token-long-enough,short'],
    ['TOLLGATE_CORS_ORIGINS', 'https://dashboard.example.com/app'],
    ['TOLLGATE_CORS_ORIGINS', 'dashboard.example.com'],
    ['DB_POOL_SIZE', '0'],
    ['LOG_LEVEL', 'loud'],
    ['STRIPE_API_BASE', 'localhost:12111'],
    ['TOLLGATE_BONUS_TIERS', '50:ten'],
    ['TOLLGATE_BONUS_TIERS', '50:150'],
    ['TOLLGATE_ALERT_WEBHOOK_ALLOW_PRIVATE', 'yes'],
  ])('refuses a wrong %s and names it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^Invalid configuration:[\\s\\S]*${name}`));
  });
});
