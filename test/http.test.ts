import { MAX_BODY_BYTES } from '../src/server';
import { useTestApp } from './support/app';

const app = useTestApp();

describe('the HTTP endpoints', () => {
  it('answers /healthz while the process is up', async () => {
    const response = await fetch(`${app.server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers 404 for an unknown path', async () => {
    expect((await fetch(`${app.server.url}/nope`)).status).toBe(404);
  });

  it('refuses a body that is not JSON with 400', async () => {
    const response = await fetch(`${app.server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query": ',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).errors[0].message).toMatch(/not valid JSON/);
  });

  it('refuses a body over the size limit with 413 before parsing it', async () => {
    const response = await fetch(`${app.server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ __typename }`, padding: 'x'.repeat(MAX_BODY_BYTES) }),
    });
    expect(response.status).toBe(413);
  });

  it('answers a malformed query with a top-level error and no data', async () => {
    const result = await app.gql('{ viewer { ');
    expect(result.status).toBe(400);
    expect(result.errors?.[0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
  });
});
