import { createHash } from 'node:crypto';
import { getIntrospectionQuery } from 'graphql';
import { subscriptionClient, useTestApp } from './support/app';
import { createOrganization } from './support/fixtures';

const app = useTestApp();

/** 100 alerts × 100 transactions each: 10,000 nested rows. */
const TEN_THOUSAND_ROWS = '{ organization { alerts(first: 100) { nodes { wallet { transactions(first: 100) { nodes { id amount } } } } } } }';
const DASHBOARD = `{ organization { workspaces { name wallet { balance transactions(first: 20) {
  nodes { id type amount createdAt apiKey { name } identity { externalId } project { name } } } } } } }`;
const deep = (levels: number) => `{ viewer { organization { workspaces { ${'wallet { workspace { '.repeat(levels)}name${' } }'.repeat(levels)} } } } }`;

describe('query limits', () => {
  let token: string;
  beforeAll(async () => {
    token = (await createOrganization(app)).ownerToken;
  });

  it('refuses an operation asking for 10,000 nested rows before it runs, over HTTP and WebSocket', async () => {
    const result = await app.gql(TEN_THOUSAND_ROWS, {}, token);
    expect(result.status).toBe(400);
    expect(result.data ?? null).toBeNull();
    expect(result.errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/^The operation would cost \d+, over the limit of 10000/), extensions: expect.objectContaining({ code: 'QUERY_TOO_COSTLY' }) })]);

    const client = subscriptionClient(app, token);
    try {
      const { value } = await client.iterate({ query: TEN_THOUSAND_ROWS }).next();
      expect(value.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_TOO_COSTLY' }) })]);
    } finally {
      await client.dispose();
    }
  });

  it('counts page sizes given as variables', async () => {
    const query = 'query ($n: Int) { organization { alerts(first: $n) { nodes { wallet { transactions(first: $n) { nodes { id } } } } } } }';
    expect((await app.gql(query, { n: 100 }, token)).errors?.[0].extensions?.code).toBe('QUERY_TOO_COSTLY');
    expect((await app.gql(query, { n: 5 }, token)).errors).toBeUndefined();
  });

  it('lets a dashboard query and GraphiQL’s introspection through', async () => {
    expect((await app.gql(DASHBOARD, {}, token)).errors).toBeUndefined();
    const introspection = await app.gql(getIntrospectionQuery(), {}, token);
    expect(introspection.errors).toBeUndefined();
    expect(introspection.data.__schema.queryType.name).toBe('Query');
  });

  it('refuses an operation nested deeper than 12 fields, over HTTP and WebSocket', async () => {
    expect((await app.gql(deep(3), {}, token)).errors).toBeUndefined();
    const result = await app.gql(deep(5), {}, token);
    expect(result.status).toBe(400);
    // Apollo reports every validation failure as GRAPHQL_VALIDATION_FAILED.
    expect(result.errors).toEqual([expect.objectContaining({ message: 'The operation is nested 14 fields deep; at most 12 are allowed' })]);
    const client = subscriptionClient(app, token);
    try {
      await expect(client.iterate({ query: deep(5) }).next()).rejects.toEqual([expect.objectContaining({ message: 'The operation is nested 14 fields deep; at most 12 are allowed' })]);
    } finally {
      await client.dispose();
    }
  });

  it('answers automatic persisted queries: the hash alone once the query is known', async () => {
    const query = '{ viewer { kind } }';
    const persistedQuery = { version: 1, sha256Hash: createHash('sha256').update(query).digest('hex') };
    const send = (body: Record<string, unknown>) =>
      fetch(`${app.server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ ...body, extensions: { persistedQuery } }),
      }).then((response) => response.json() as Promise<any>);
    expect((await send({})).errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(await send({ query })).toEqual({ data: { viewer: { kind: 'MEMBER' } } });
    expect(await send({})).toEqual({ data: { viewer: { kind: 'MEMBER' } } });
  });
});
