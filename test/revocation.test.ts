import type { Client } from 'graphql-ws';
import { createLogger } from '../src/logger';
import { createRedisEventBus } from '../src/realtime/pubsub';
import { startTestApp, subscriptionClient, type TestApp } from './support/app';
import { createMemberWithToken, createOrganization, createWorkspace, eventually, MEMBER_TOKEN_REVOKE, type OrgFixture } from './support/fixtures';
import { type ServerProcess, spawnServer } from './support/process';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Replica A holds a member's WebSocket; the member's token is revoked through replica B. A's
 * periodic token check is set to a minute, so what happens sooner is the revocation itself.
 */
describe('a token revoked on another replica', () => {
  let replicaA: TestApp;
  const processes: ServerProcess[] = [];
  beforeAll(async () => {
    replicaA = await startTestApp({ bus: await createRedisEventBus(REDIS_URL, createLogger('silent')), tokenRecheckMs: 60_000 });
  });
  afterAll(async () => {
    for (const server of processes) server.process.kill('SIGKILL');
    await replicaA.close();
    await replicaA.server.bus.close();
  });

  async function memberOnReplicaA() {
    const org: OrgFixture = await createOrganization(replicaA);
    const { walletId } = await createWorkspace(replicaA, org.ownerToken);
    const member = await createMemberWithToken(replicaA, org.ownerToken, 'ADMIN');
    const closes: number[] = [];
    const socket: Client = subscriptionClient(replicaA, member.token);
    socket.on('closed', (event) => closes.push((event as { code: number }).code));
    // A dashboard's live balance keeps the connection open.
    const live = socket.iterate({ query: `subscription { walletBalanceChanged(walletId: "${walletId}") { balance } }` });
    await live.next();
    const run = (query: string) =>
      socket
        .iterate<any>({ query })
        .next()
        .then(
          ({ value }) => value,
          (errors) => ({ errors }),
        );
    expect(await run('{ viewer { kind } }')).toEqual({ data: { viewer: { kind: 'MEMBER' } } });
    return { org, member, socket, closes, run };
  }

  async function revokeThrough(replicaB: ServerProcess, org: OrgFixture, tokenId: string) {
    const response = await fetch(`${replicaB.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${org.ownerToken}` },
      body: JSON.stringify({ query: MEMBER_TOKEN_REVOKE, variables: { input: { accessTokenId: tokenId } } }),
    });
    expect(((await response.json()) as any).data.memberTokenRevoke.userErrors).toEqual([]);
  }

  it('refuses the next operation on the open socket at once, even when no event tells that replica', async () => {
    // Replica B without Redis: nothing it publishes reaches A.
    const replicaB = await spawnServer();
    processes.push(replicaB);
    const { org, member, socket, closes, run } = await memberOnReplicaA();
    try {
      await revokeThrough(replicaB, org, member.tokenId);
      const refused = await run('mutation { workspaceCreate(input: { name: "after revocation" }) { workspace { id } } }');
      expect(refused).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
      await eventually(async () => closes.length > 0, 5_000);
      expect(closes).toEqual([4401]);
      const { viewer } = await replicaA.data('{ viewer { organization { workspaces { nodes { name } } } } }', {}, org.ownerToken);
      expect(viewer.organization.workspaces.nodes.map((workspace: { name: string }) => workspace.name)).not.toContain('after revocation');
    } finally {
      await socket.dispose();
    }
  });

  it('closes the open socket at once through the bus, long before the periodic check', async () => {
    const replicaB = await spawnServer({ REDIS_URL });
    processes.push(replicaB);
    const { org, member, socket, closes } = await memberOnReplicaA();
    try {
      await revokeThrough(replicaB, org, member.tokenId);
      await eventually(async () => closes.length > 0, 5_000);
      expect(closes).toEqual([4401]);
    } finally {
      await socket.dispose();
    }
  });
});
