import { ApolloClient, ApolloLink, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import { Kind, OperationTypeNode } from 'graphql';
import WebSocket from 'ws';
import { GATEWAY_TOKEN, useTestApp } from './support/app';
import { eventually } from './support/fixtures';
import { gatewaySetup, requestKey } from './support/gateway';

const app = useTestApp();

/** A dashboard's Apollo Client: queries over HTTP, subscriptions over graphql-ws, one normalized cache. */
function dashboard(token: string) {
  const socket = createClient({ url: `${app.server.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: token } });
  const http = new HttpLink({ uri: `${app.server.url}/graphql`, headers: { authorization: `Bearer ${token}` } });
  const isSubscription = ({ query }: ApolloLink.Operation) => {
    const definition = getMainDefinition(query);
    return definition.kind === Kind.OPERATION_DEFINITION && definition.operation === OperationTypeNode.SUBSCRIPTION;
  };
  const client = new ApolloClient({ link: ApolloLink.split(isSubscription, new GraphQLWsLink(socket), http), cache: new InMemoryCache() });
  return { client, socket };
}

const WALLET = gql`
  query ($id: ID!) {
    node(id: $id) {
      id
      ... on Wallet {
        balance
        held
        availableBalance
      }
    }
  }
`;

const LIVE = gql`
  subscription ($walletId: ID!) {
    walletBalanceChanged(walletId: $walletId) {
      change
      wallet {
        id
        balance
        held
        availableBalance
      }
    }
  }
`;

describe('live updates reach a normalized cache (Apollo Client)', () => {
  it("moves a watched wallet's balance after a debit, with no refetch and no cache write of the app's", async () => {
    const fixture = await gatewaySetup(app, '1');
    const { client, socket } = dashboard(fixture.ownerToken);
    try {
      const seen: Array<{ balance: string; availableBalance: string }> = [];
      const watched = client.watchQuery({ query: WALLET, variables: { id: fixture.walletId } }).subscribe((result) => {
        if (result.data) seen.push((result.data as { node: { balance: string; availableBalance: string } }).node);
      });
      const events: unknown[] = [];
      const live = client.subscribe({ query: LIVE, variables: { walletId: fixture.walletId } }).subscribe((result) => events.push(result.data));
      await eventually(async () => seen.length > 0 && events.length > 0);
      expect(seen[seen.length - 1]).toMatchObject({ balance: '1', held: '0', availableBalance: '1' });

      const { gatewayDebit } = await app.data(
        `mutation ($input: GatewayDebitInput!) { gatewayDebit(input: $input) { allowed transactionId transaction { id type amount wallet { id balance } } } }`,
        { input: { apiKey: fixture.secret, model: fixture.model, idempotencyKey: requestKey(), inputTokens: 1000, outputTokens: 0 } },
        GATEWAY_TOKEN,
      );
      expect(gatewayDebit).toEqual({
        allowed: true,
        transactionId: gatewayDebit.transaction.id,
        transaction: { id: gatewayDebit.transactionId, type: 'DEDUCTION', amount: '-0.0011', wallet: { id: fixture.walletId, balance: '0.9989' } },
      });
      await eventually(async () => seen[seen.length - 1].balance === '0.9989');
      expect(seen[seen.length - 1]).toMatchObject({ balance: '0.9989', availableBalance: '0.9989' });
      watched.unsubscribe();
      live.unsubscribe();
    } finally {
      await socket.dispose();
      client.stop();
    }
  });
});
