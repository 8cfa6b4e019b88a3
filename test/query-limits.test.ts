import { createHash } from 'node:crypto';
import { getIntrospectionQuery } from 'graphql';
import { MAX_BODY_BYTES } from '../src/http/body';
import { subscriptionClient, useTestApp } from './support/app';
import { createOrganization } from './support/fixtures';

const app = useTestApp();

/** 100 alerts × 100 transactions each: 10,000 nested rows. */
const TEN_THOUSAND_ROWS = '{ organization { alerts(first: 100) { nodes { wallet { transactions(first: 100) { nodes { id amount } } } } } } }';
const DASHBOARD = `{ organization { workspaces { nodes { name wallet { balance transactions(first: 20) {
  nodes { id type amount createdAt apiKey { name } identity { externalId } project { name } } } } } } } }`;
/** GraphiQL's introspection query with every option on, the largest of the usual ones. */
const FULL_INTROSPECTION = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true, oneOf: true });
/** 300 aliased copies of a walk through every type's fields and their arguments. */
const ALIASED_INTROSPECTION = `{ ${Array.from({ length: 300 }, (_, i) => `copy${i}: __schema { types { fields { args { name type { name } } } } }`).join(' ')} }`;
const deep = (levels: number) => `{ viewer { organization { workspaces { nodes { ${'wallet { workspace { '.repeat(levels)}name${' } }'.repeat(levels)} } } } } }`;

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

  it('lets a dashboard query through', async () => {
    expect((await app.gql(DASHBOARD, {}, token)).errors).toBeUndefined();
  });

  it('counts introspection: one full introspection runs without a token, 300 aliased copies are refused before they run, over HTTP and WebSocket', async () => {
    for (const query of [getIntrospectionQuery(), FULL_INTROSPECTION]) {
      const introspection = await app.gql(query);
      expect(introspection.errors).toBeUndefined();
      expect(introspection.data.__schema.types.length).toBeGreaterThan(100);
    }
    const refused = await app.gql(ALIASED_INTROSPECTION);
    expect(refused.status).toBe(400);
    expect(refused.data ?? null).toBeNull();
    expect(refused.errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/^The operation would cost \d+, over the limit of 10000/), extensions: expect.objectContaining({ code: 'QUERY_TOO_COSTLY' }) })]);

    const client = subscriptionClient(app, token);
    try {
      const { value } = await client.iterate({ query: ALIASED_INTROSPECTION }).next();
      expect(value).toEqual({ errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_TOO_COSTLY' }) })] });
    } finally {
      await client.dispose();
    }
  });

  it('closes a WebSocket with 1009 (Message Too Big) on a message over 1 MiB, the limit of an HTTP body', async () => {
    const viewer = (padding: number) => ({ query: '{ viewer { kind } }', variables: { padding: 'x'.repeat(padding) } });
    const stderr = jest.spyOn(console, 'error');
    const client = subscriptionClient(app, token);
    try {
      expect((await client.iterate(viewer(MAX_BODY_BYTES - 1000)).next()).value).toEqual({ data: { viewer: { kind: 'MEMBER' } } });
      const tooBig = await client.iterate(viewer(MAX_BODY_BYTES)).next().then(
        (answer) => ({ answered: answer }),
        (closed: { code: number; reason: string }) => ({ code: closed.code }),
      );
      expect(tooBig).toEqual({ code: 1009 });
      // A client's mistake is not reported as an internal error.
      expect(stderr).not.toHaveBeenCalled();
    } finally {
      stderr.mockRestore();
      await client.dispose();
    }
    const another = subscriptionClient(app, token);
    try {
      expect((await another.iterate({ query: '{ viewer { kind } }' }).next()).value).toEqual({ data: { viewer: { kind: 'MEMBER' } } });
    } finally {
      await another.dispose();
    }
    expect((await app.gql('{ viewer { kind } }', {}, token)).data).toEqual({ viewer: { kind: 'MEMBER' } });
  });

  it('refuses an operation nested deeper than 12 fields, over HTTP and WebSocket', async () => {
    expect((await app.gql(deep(3), {}, token)).errors).toBeUndefined();
    const result = await app.gql(deep(5), {}, token);
    expect(result.status).toBe(400);
    // Apollo reports every validation failure as GRAPHQL_VALIDATION_FAILED.
    expect(result.errors).toEqual([expect.objectContaining({ message: 'The operation is nested 15 fields deep; at most 12 are allowed' })]);
    const client = subscriptionClient(app, token);
    try {
      await expect(client.iterate({ query: deep(5) }).next()).rejects.toEqual([expect.objectContaining({ message: 'The operation is nested 15 fields deep; at most 12 are allowed' })]);
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
