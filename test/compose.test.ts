import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** No Docker engine runs here, so the file is checked for what users rely on. */
describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(join(__dirname, '..', 'docker-compose.yml'), 'utf8'));

  it('runs PostgreSQL, Redis and two replicas of the API built from the repository', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'postgres', 'redis']);
    expect(compose.services.api.build).toBe('.');
    expect(compose.services.api.deploy.replicas).toBe(2);
  });

  it('points the API at the compose PostgreSQL and Redis and waits for them', () => {
    const { environment, depends_on: dependsOn } = compose.services.api;
    const { POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB } = compose.services.postgres.environment;
    expect(environment.DATABASE_URL).toBe(`postgres://${POSTGRES_USER}:${POSTGRES_PASSWORD}@postgres:5432/${POSTGRES_DB}`);
    expect(environment.REDIS_URL).toBe('redis://redis:6379');
    expect(dependsOn).toEqual({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
  });
});
