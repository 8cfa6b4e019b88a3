import { MAX_BODY_BYTES } from '../src/http/body';
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

  it('serves GraphiQL to a browser at /graphql from local files, with no token filled in outside the embedded demo', async () => {
    const page = await fetch(`${app.server.url}/graphql`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/Bearer tg/);
    const assets = [...html.matchAll(/(?:src|href)="(graphiql\/[^"]+)"/g)].map((match) => match[1]);
    expect(assets).toEqual(['graphiql/graphiql.css', 'graphiql/react.js', 'graphiql/react-dom.js', 'graphiql/graphiql.js', 'graphiql/graphql-ws.js']);
    for (const asset of assets) {
      const response = await fetch(`${app.server.url}/${asset}`);
      expect([asset, response.status]).toEqual([asset, 200]);
      expect(response.headers.get('content-type')).toMatch(asset.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    }
    expect((await fetch(`${app.server.url}/graphiql/nothing.js`)).status).toBe(404);
  });

  it('still answers GraphQL over GET at /graphql', async () => {
    const response = await fetch(`${app.server.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { accept: 'text/html,application/json', 'apollo-require-preflight': 'true' },
    });
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
  });
});
