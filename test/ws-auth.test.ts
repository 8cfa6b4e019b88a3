import { ApolloClient, ApolloLink, gql, InMemoryCache } from '@apollo/client';
import { ErrorLink } from '@apollo/client/link/error';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { useTestApp } from './support/app';
import { createMemberWithToken, createOrganization, createWorkspace, eventually, MEMBER_TOKEN_REVOKE } from './support/fixtures';
import { spawnServer } from './support/process';
import { databaseRelay } from './support/database-relay';

const app = useTestApp();

const BALANCE = gql`
  subscription ($walletId: ID!) {
    walletBalanceChanged(walletId: $walletId) {
      balance
    }
  }
`;

/** What a dashboard does: Apollo Client over graphql-ws, with an error handler of the app's. */
function dashboard(baseUrl: string, connectionParams: Record<string, unknown>) {
  const errors: Error[] = [];
  const closes: number[] = [];
  const socket = createClient({
    url: `${baseUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams,
    on: { closed: (event) => closes.push((event as { code: number }).code) },
  });
  const client = new ApolloClient({
    link: ApolloLink.from([new ErrorLink(({ error }) => void errors.push(error)), new GraphQLWsLink(socket)]),
    cache: new InMemoryCache(),
  });
  return { client, socket, errors, closes };
}

describe('graphql-ws authentication, as Apollo Client meets it', () => {
  let walletId: string;
  let ownerToken: string;
  beforeAll(async () => {
    const org = await createOrganization(app);
    ownerToken = org.ownerToken;
    walletId = (await createWorkspace(app, org.ownerToken)).walletId;
  });

  it.each([
    ['Bearer <token>', (token: string) => `Bearer ${token}`],
    ['the bare token', (token: string) => token],
  ])('accepts %s in connectionParams.authorization', async (_label, form) => {
    const { client, socket, errors } = dashboard(app.server.url, { authorization: form(ownerToken) });
    try {
      const first = await new Promise((resolve, reject) => {
        const subscription = client.subscribe({ query: BALANCE, variables: { walletId } }).subscribe({
          next: (result) => {
            subscription.unsubscribe();
            resolve(result.data);
          },
          error: reject,
        });
      });
      expect(first).toMatchObject({ walletBalanceChanged: { balance: '0' } });
      expect(errors).toEqual([]);
    } finally {
      await socket.dispose();
    }
  });

  it.each([
    ['no token', {}],
    ['an unknown token', { authorization: 'Bearer tgm_not-a-real-token-at-all' }],
  ])('closes a connection with %s with 4401, which the app sees and which is not retried', async (_label, params) => {
    const { client, socket, errors, closes } = dashboard(app.server.url, params);
    try {
      client.subscribe({ query: BALANCE, variables: { walletId } }).subscribe({ error: () => undefined });
      await eventually(async () => errors.length > 0);
      expect(errors[0].message).toMatch(/^Socket closed with event 4401 Unauthorized/);
      expect(closes).toEqual([4401]);
    } finally {
      await socket.dispose();
    }
  });

  it('closes with 4401 for a revoked token, at connection and on a connection already open', async () => {
    const org = await createOrganization(app);
    const { walletId: own } = await createWorkspace(app, org.ownerToken);
    const viewer = await createMemberWithToken(app, org.ownerToken, 'VIEWER');
    const open = dashboard(app.server.url, { authorization: viewer.token });
    try {
      const events: unknown[] = [];
      open.client.subscribe({ query: BALANCE, variables: { walletId: own } }).subscribe({ next: (result) => events.push(result.data), error: () => undefined });
      await eventually(async () => events.length > 0);
      await app.data(MEMBER_TOKEN_REVOKE, { input: { accessTokenId: viewer.tokenId } }, org.ownerToken);
      await eventually(async () => open.closes.length > 0);
      expect(open.closes).toEqual([4401]);

      const later = dashboard(app.server.url, { authorization: viewer.token });
      later.client.subscribe({ query: BALANCE, variables: { walletId: own } }).subscribe({ error: () => undefined });
      await eventually(async () => later.closes.length > 0);
      expect(later.closes).toEqual([4401]);
      await later.socket.dispose();
    } finally {
      await open.socket.dispose();
    }
  });

  it('closes with 1013 (try again later, which clients retry) while the database is away', async () => {
    const relay = databaseRelay(new URL(process.env.TOLLGATE_TEST_DATABASE_URL!));
    const server = await spawnServer({ DATABASE_URL: await relay.start() });
    try {
      await relay.stop();
      const closes: number[] = [];
      const socket = createClient({
        url: `${server.url.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: ownerToken },
        retryAttempts: 0,
        on: { closed: (event) => closes.push((event as { code: number }).code) },
      });
      socket.subscribe({ query: 'subscription ($walletId: ID!) { walletBalanceChanged(walletId: $walletId) { balance } }', variables: { walletId } }, {
        next: () => undefined,
        error: () => undefined,
        complete: () => undefined,
      });
      await eventually(async () => closes.length > 0);
      expect(closes).toEqual([1013]);
      await socket.dispose();
    } finally {
      server.process.kill('SIGKILL');
    }
  });
});
