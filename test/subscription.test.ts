import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { ADMIN_TOKEN, useTestApp } from './support/app';
import { createOrganization, createWorkspace, fund } from './support/fixtures';

const app = useTestApp();

function wsClient(token: string) {
  return createClient({
    url: `${app.server.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
}

const SUBSCRIPTION = 'subscription ($walletId: ID!) { walletBalanceChanged(walletId: $walletId) { walletId balance change transactionId } }';

describe('walletBalanceChanged over graphql-ws', () => {
  it('delivers the committed balance to a member of the organization', async () => {
    const org = await createOrganization(app);
    const { walletId } = await createWorkspace(app, org.ownerToken);
    const client = wsClient(org.ownerToken);
    try {
      const events = client.iterate<{ walletBalanceChanged: Record<string, string> }>({ query: SUBSCRIPTION, variables: { walletId } });
      const next = events.next();
      // The subscription is registered once the server has handled the subscribe message.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await fund(app, walletId, '7.5');
      const { value } = await next;
      expect(value.data?.walletBalanceChanged).toMatchObject({ walletId, balance: '7.5', change: '7.5' });
      await events.return?.();
    } finally {
      await client.dispose();
    }
  });

  it("refuses a subscription to another organization's wallet", async () => {
    const owner = await createOrganization(app);
    const { walletId } = await createWorkspace(app, owner.ownerToken);
    const stranger = await createOrganization(app);
    const client = wsClient(stranger.ownerToken);
    try {
      const events = client.iterate({ query: SUBSCRIPTION, variables: { walletId } });
      const { value } = await events.next();
      expect(value.data ?? null).toBeNull();
      expect(value.errors).toEqual([expect.objectContaining({ message: 'walletId: no such wallet' })]);
    } finally {
      await client.dispose();
    }
  });

  it('refuses a connection with an invalid token', async () => {
    const client = wsClient('not-a-real-token-at-all');
    try {
      const events = client.iterate({ query: SUBSCRIPTION, variables: { walletId: 'wal_0000000000000000000000' } });
      await expect(events.next()).rejects.toMatchObject({ code: 4403 });
    } finally {
      await client.dispose();
    }
  });

  it('lets the platform admin watch any wallet', async () => {
    const org = await createOrganization(app);
    const { walletId } = await createWorkspace(app, org.ownerToken);
    const client = wsClient(ADMIN_TOKEN);
    try {
      const events = client.iterate<{ walletBalanceChanged: Record<string, string> }>({ query: SUBSCRIPTION, variables: { walletId } });
      const next = events.next();
      await new Promise((resolve) => setTimeout(resolve, 200));
      await fund(app, walletId, '1');
      expect((await next).value.data?.walletBalanceChanged.balance).toBe('1');
      await events.return?.();
    } finally {
      await client.dispose();
    }
  });
});
