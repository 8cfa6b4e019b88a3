import { newId } from '../src/ids';
import { ADMIN_TOKEN, GATEWAY_TOKEN, type GraphQLResult, subscriptionClient, useTestApp } from './support/app';
import {
  ADJUST,
  balanceOf,
  codes,
  createMemberWithToken,
  createOrganization,
  createWorkspace,
  expectNoUserErrors,
  fund,
  MEMBER_CREATE,
  MEMBER_REMOVE,
  MEMBER_TOKEN_CREATE,
  MEMBER_TOKEN_REVOKE,
  ORGANIZATION_CREATE,
  organizationState,
  PROJECT_CREATE,
  TRANSFER,
  unique,
  WORKSPACE_CREATE,
} from './support/fixtures';

const app = useTestApp();

const VIEWER = `{ viewer { kind member { id role } organization { id name } } }`;
const NODE = `query ($id: ID!) { node(id: $id) { __typename id } }`;
const ORGANIZATION = `query ($id: ID) { organization(id: $id) { id name workspaces { nodes { id wallet { id balance } } } members { nodes { id } } } }`;

/** The codes of a response's top-level errors. */

function expectTopLevelError(result: GraphQLResult, code: string, status?: number): void {
  expect(codes(result)).toEqual([code]);
  if (status !== undefined) expect(result.status).toBe(status);
}

/** An organization with two workspaces (one funded), a project, a transfer and a member with a token. */
async function populatedOrganization() {
  const org = await createOrganization(app);
  const main = await createWorkspace(app, org.ownerToken, 'Main');
  const side = await createWorkspace(app, org.ownerToken, 'Side');
  await fund(app, main.walletId, '50');
  const { walletTransfer } = await app.data(
    TRANSFER,
    { input: { fromWalletId: main.walletId, toWalletId: side.walletId, amount: '5', idempotencyKey: unique('setup') } },
    org.ownerToken,
  );
  expectNoUserErrors(walletTransfer);
  const { projectCreate } = await app.data(PROJECT_CREATE, { input: { workspaceId: main.workspaceId, name: 'Chatbot' } }, org.ownerToken);
  expectNoUserErrors(projectCreate);
  const member = await createMemberWithToken(app, org.ownerToken, 'MEMBER');
  return { ...org, main, side, member, projectId: projectCreate.project.id as string, transactionId: walletTransfer.transferOut.id as string };
}

describe('tenancy: another organization is invisible', () => {
  it('answers null for every kind of id of another organization, through node and organization', async () => {
    const a = await populatedOrganization();
    const b = await populatedOrganization();
    const idsOfA: Array<[string, string]> = [
      ['Organization', a.organizationId],
      ['Member', a.ownerId],
      ['Member', a.member.memberId],
      ['AccessToken', a.member.tokenId],
      ['Workspace', a.main.workspaceId],
      ['Wallet', a.main.walletId],
      ['Project', a.projectId],
      ['Transaction', a.transactionId],
    ];
    for (const [typename, id] of idsOfA) {
      // The ids are real: A's owner sees each of them.
      const own = await app.gql(NODE, { id }, a.ownerToken);
      expect(own.errors).toBeUndefined();
      expect(own.data.node).toEqual({ __typename: typename, id });
      const other = await app.gql(NODE, { id }, b.ownerToken);
      expect({ typename, errors: other.errors, node: other.data?.node }).toEqual({ typename, errors: undefined, node: null });
    }

    const own = await app.data(ORGANIZATION, { id: a.organizationId }, a.ownerToken);
    expect(own.organization.id).toBe(a.organizationId);
    const other = await app.gql(ORGANIZATION, { id: a.organizationId }, b.ownerToken);
    expect(other.errors).toBeUndefined();
    expect(other.data.organization).toBeNull();

    // B's own view of the world holds nothing of A.
    const bView = await app.data(ORGANIZATION, {}, b.ownerToken);
    expect(bView.organization.id).toBe(b.organizationId);
    const bIds = JSON.stringify(bView);
    for (const [, id] of idsOfA) expect(bIds).not.toContain(id);
  });

  it('answers NOT_FOUND to every mutation given ids of another organization, and changes nothing', async () => {
    const a = await populatedOrganization();
    const b = await populatedOrganization();
    const beforeA = await organizationState(app, a.organizationId);
    const beforeB = await organizationState(app, b.organizationId);

    const attempts: Array<[string, string, Record<string, unknown>, string[]]> = [
      ['memberRemove', MEMBER_REMOVE, { memberId: a.member.memberId }, ['input', 'memberId']],
      ['memberRemove', MEMBER_REMOVE, { memberId: a.ownerId }, ['input', 'memberId']],
      ['memberTokenCreate', MEMBER_TOKEN_CREATE, { memberId: a.member.memberId, name: 'stolen' }, ['input', 'memberId']],
      ['memberTokenRevoke', MEMBER_TOKEN_REVOKE, { accessTokenId: a.member.tokenId }, ['input', 'accessTokenId']],
      ['projectCreate', PROJECT_CREATE, { workspaceId: a.main.workspaceId, name: 'Intruder' }, ['input', 'workspaceId']],
      [
        'walletTransfer',
        TRANSFER,
        { fromWalletId: a.main.walletId, toWalletId: b.main.walletId, amount: '1', idempotencyKey: unique('x') },
        ['input', 'fromWalletId'],
      ],
      [
        'walletTransfer',
        TRANSFER,
        { fromWalletId: b.main.walletId, toWalletId: a.main.walletId, amount: '1', idempotencyKey: unique('x') },
        ['input', 'toWalletId'],
      ],
      [
        'walletTransfer',
        TRANSFER,
        { fromWalletId: a.main.walletId, toWalletId: a.side.walletId, amount: '1', idempotencyKey: unique('x') },
        ['input', 'fromWalletId'],
      ],
      ['workspaceCreate', WORKSPACE_CREATE, { name: 'Intruder', organizationId: a.organizationId }, ['input', 'organizationId']],
    ];
    for (const [mutation, document, input, field] of attempts) {
      const result = await app.gql(document, { input }, b.ownerToken);
      expect(result.errors).toBeUndefined();
      const payload = result.data[mutation];
      expect({ mutation, userErrors: payload.userErrors }).toEqual({
        mutation,
        userErrors: [expect.objectContaining({ code: 'NOT_FOUND', field })],
      });
      for (const [key, value] of Object.entries(payload)) if (key !== 'userErrors') expect(value).toBeNull();
    }

    expect(await organizationState(app, a.organizationId)).toEqual(beforeA);
    expect(await organizationState(app, b.organizationId)).toEqual(beforeB);
    expect(await balanceOf(app, a.main.walletId)).toBe('45');
    expect(await balanceOf(app, a.side.walletId)).toBe('5');
    // A's member and token still work.
    expect((await app.data(VIEWER, {}, a.member.token)).viewer.member.id).toBe(a.member.memberId);
  });

  it("refuses a subscription to another organization's wallet", async () => {
    const a = await populatedOrganization();
    const b = await populatedOrganization();
    const subscribe = (token: string, walletId: string) =>
      new Promise<{ data?: unknown; errors?: unknown }>((resolve) => {
        const client = subscriptionClient(app, token);
        let settled = false;
        const finish = (value: { data?: unknown; errors?: unknown }) => {
          if (settled) return;
          settled = true;
          void client.dispose();
          resolve(value);
        };
        client.subscribe(
          { query: 'subscription ($id: ID!) { walletBalanceChanged(walletId: $id) { walletId balance change } }', variables: { id: walletId } },
          {
            next: (value) => finish(value as { data?: unknown; errors?: unknown }),
            error: (errors) => finish({ errors }),
            complete: () => finish({}),
          },
        );
      });

    const own = await subscribe(a.ownerToken, a.main.walletId);
    // An accepted subscription starts with the current balance.
    expect(own).toEqual({ data: { walletBalanceChanged: { walletId: a.main.walletId, balance: expect.stringMatching(/^\d+$/), change: '0' } } });

    // Refused outright: no balance arrives.
    const other = await subscribe(b.ownerToken, a.side.walletId);
    expect(other.data ?? null).toBeNull();
    expect(JSON.stringify(other.errors)).toMatch(/no such wallet/);
  });
});

describe('roles: only owners and admins write', () => {
  it.each(['VIEWER', 'MEMBER'])('answers FORBIDDEN to every manager mutation of a %s and changes nothing', async (role) => {
    const org = await createOrganization(app);
    const main = await createWorkspace(app, org.ownerToken, 'Main');
    const side = await createWorkspace(app, org.ownerToken, 'Side');
    await fund(app, main.walletId, '10');
    const actor = await createMemberWithToken(app, org.ownerToken, role);
    const other = await createMemberWithToken(app, org.ownerToken, 'MEMBER');

    const attempts: Array<[string, string, Record<string, unknown>]> = [
      ['memberCreate', MEMBER_CREATE, { name: 'New person', email: `${unique('new').replace(' ', '-')}@example.com`, role: 'VIEWER' }],
      ['memberTokenCreate', MEMBER_TOKEN_CREATE, { memberId: actor.memberId, name: 'my own' }],
      ['memberTokenRevoke', MEMBER_TOKEN_REVOKE, { accessTokenId: other.tokenId }],
      ['memberRemove', MEMBER_REMOVE, { memberId: other.memberId }],
      ['workspaceCreate', WORKSPACE_CREATE, { name: 'Extra' }],
      ['projectCreate', PROJECT_CREATE, { workspaceId: main.workspaceId, name: 'Project' }],
      ['walletTransfer', TRANSFER, { fromWalletId: main.walletId, toWalletId: side.walletId, amount: '1', idempotencyKey: unique('t') }],
    ];
    const before = await organizationState(app, org.organizationId);
    for (const [mutation, document, input] of attempts) {
      const result = await app.gql(document, { input }, actor.token);
      expect({ mutation, codes: codes(result), status: result.status, data: result.data }).toEqual({
        mutation,
        codes: ['FORBIDDEN'],
        status: 403,
        data: null,
      });
    }
    expect(await organizationState(app, org.organizationId)).toEqual(before);

    // The same requests are valid: the owner may make each of them.
    for (const [mutation, document, input] of attempts) {
      const { [mutation]: payload } = await app.data(document, { input }, org.ownerToken);
      expect({ mutation, userErrors: payload.userErrors }).toEqual({ mutation, userErrors: [] });
    }
    expect(await balanceOf(app, main.walletId)).toBe('9');
  });

  it.each(['VIEWER', 'MEMBER'])('lets a %s read its organization, balances and transactions', async (role) => {
    const org = await createOrganization(app);
    const main = await createWorkspace(app, org.ownerToken, 'Main');
    await fund(app, main.walletId, '12.5');
    const reader = await createMemberWithToken(app, org.ownerToken, role);

    const { viewer } = await app.data(VIEWER, {}, reader.token);
    expect(viewer).toEqual({ kind: 'MEMBER', member: { id: reader.memberId, role }, organization: { id: org.organizationId, name: expect.any(String) } });

    const { organization } = await app.data(
      `{ organization { id members { nodes { id role } } workspaces { nodes { id wallet { balance transactions(first: 5) { nodes { type amount } } } } } } }`,
      {},
      reader.token,
    );
    expect(organization.id).toBe(org.organizationId);
    expect(organization.members.nodes.map((m: { id: string }) => m.id).sort()).toEqual([org.ownerId, reader.memberId].sort());
    expect(organization.workspaces.nodes).toEqual([
      { id: main.workspaceId, wallet: { balance: '12.5', transactions: { nodes: [{ type: 'MANUAL', amount: '12.5' }] } } },
    ]);
    expect(await balanceOf(app, main.walletId, reader.token)).toBe('12.5');
  });

  it('keeps organizationCreate and walletAdjust for the platform admin', async () => {
    const org = await createOrganization(app);
    const main = await createWorkspace(app, org.ownerToken, 'Main');
    await fund(app, main.walletId, '3');
    const admin = await createMemberWithToken(app, org.ownerToken, 'ADMIN');
    const name = unique('Sneaky');
    const before = await organizationState(app, org.organizationId);

    for (const token of [org.ownerToken, admin.token]) {
      const created = await app.gql(ORGANIZATION_CREATE, { input: { name, ownerName: 'Eve', ownerEmail: 'eve@example.com' } }, token);
      expectTopLevelError(created, 'FORBIDDEN', 403);
      const adjusted = await app.gql(
        ADJUST,
        { input: { walletId: main.walletId, amount: '1000', description: 'free money', idempotencyKey: unique('adj') } },
        token,
      );
      expectTopLevelError(adjusted, 'FORBIDDEN', 403);
    }

    const [{ count }] = await app.orm.em.fork().execute('select count(*)::int as count from organizations where name = ?', [name]);
    expect(count).toBe(0);
    expect(await organizationState(app, org.organizationId)).toEqual(before);
    expect(await balanceOf(app, main.walletId)).toBe('3');
  });

  it('gives the gateway token no dashboard data and no dashboard writes', async () => {
    const a = await populatedOrganization();
    const before = await organizationState(app, a.organizationId);

    const { viewer } = await app.data(VIEWER, {}, GATEWAY_TOKEN);
    expect(viewer).toEqual({ kind: 'GATEWAY', member: null, organization: null });

    const reads: Array<[string, Record<string, unknown>]> = [
      [ORGANIZATION, { id: a.organizationId }],
      [ORGANIZATION, {}],
      [NODE, { id: a.main.walletId }],
      [NODE, { id: a.organizationId }],
      [NODE, { id: a.transactionId }],
    ];
    for (const [query, variables] of reads) {
      const result = await app.gql(query, variables, GATEWAY_TOKEN);
      expectTopLevelError(result, 'FORBIDDEN', 403);
      expect(JSON.stringify(result.data ?? null)).not.toContain(a.organizationId);
    }

    const writes: Array<[string, Record<string, unknown>]> = [
      [MEMBER_CREATE, { name: 'Gate', email: 'gate@example.com', role: 'OWNER' }],
      [MEMBER_REMOVE, { memberId: a.member.memberId }],
      [MEMBER_TOKEN_CREATE, { memberId: a.ownerId, name: 'gate' }],
      [MEMBER_TOKEN_REVOKE, { accessTokenId: a.member.tokenId }],
      [WORKSPACE_CREATE, { name: 'Gate', organizationId: a.organizationId }],
      [PROJECT_CREATE, { workspaceId: a.main.workspaceId, name: 'Gate' }],
      [TRANSFER, { fromWalletId: a.main.walletId, toWalletId: a.side.walletId, amount: '1', idempotencyKey: unique('g') }],
      [ADJUST, { walletId: a.main.walletId, amount: '1', description: 'gate', idempotencyKey: unique('g') }],
      [ORGANIZATION_CREATE, { name: unique('Gate'), ownerName: 'Gate', ownerEmail: 'gate@example.com' }],
    ];
    for (const [document, input] of writes) expectTopLevelError(await app.gql(document, { input }, GATEWAY_TOKEN), 'FORBIDDEN', 403);
    expect(await organizationState(app, a.organizationId)).toEqual(before);
  });
});

describe('authentication', () => {
  it('answers UNAUTHENTICATED with HTTP 401 to a request without a token', async () => {
    const a = await populatedOrganization();
    const before = await organizationState(app, a.organizationId);
    const requests: Array<[string, Record<string, unknown>]> = [
      [VIEWER, {}],
      [ORGANIZATION, { id: a.organizationId }],
      [NODE, { id: a.main.walletId }],
      [WORKSPACE_CREATE, { input: { name: 'Anon', organizationId: a.organizationId } }],
      [TRANSFER, { input: { fromWalletId: a.main.walletId, toWalletId: a.side.walletId, amount: '1', idempotencyKey: 'anon' } }],
      [MEMBER_CREATE, { input: { name: 'Anon', email: 'anon@example.com', role: 'OWNER' } }],
      [ADJUST, { input: { walletId: a.main.walletId, amount: '1', description: 'anon', idempotencyKey: 'anon' } }],
      [ORGANIZATION_CREATE, { input: { name: unique('Anon'), ownerName: 'Anon', ownerEmail: 'anon@example.com' } }],
    ];
    for (const [document, variables] of requests) {
      const result = await app.gql(document, variables);
      expectTopLevelError(result, 'UNAUTHENTICATED', 401);
      // Nothing is answered: no data, or only the nulls of the refused fields.
      expect(Object.values(result.data ?? {}).filter((value) => value !== null)).toEqual([]);
    }
    expect(await organizationState(app, a.organizationId)).toEqual(before);
  });

  it('refuses an unknown token outright, even for a query that needs none', async () => {
    for (const token of ['garbage', `tgm_${'x'.repeat(43)}`, ADMIN_TOKEN.slice(0, -1), `${GATEWAY_TOKEN}x`]) {
      for (const query of [VIEWER, '{ __typename }']) {
        const result = await app.gql(query, {}, token);
        expectTopLevelError(result, 'UNAUTHENTICATED', 401);
        expect(result.data).toBeUndefined();
      }
    }
    for (const authorization of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b']) {
      const response = await fetch(`${app.server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      const body = (await response.json()) as GraphQLResult;
      expect({ authorization, status: response.status, codes: codes(body as GraphQLResult) }).toEqual({
        authorization,
        status: 401,
        codes: ['UNAUTHENTICATED'],
      });
    }
  });

  it('refuses a revoked token from the next request on, and only that token', async () => {
    const org = await createOrganization(app);
    const member = await createMemberWithToken(app, org.ownerToken, 'ADMIN');
    const { memberTokenCreate } = await app.data(MEMBER_TOKEN_CREATE, { input: { memberId: member.memberId, name: 'second' } }, org.ownerToken);
    expectNoUserErrors(memberTokenCreate);
    expect((await app.data(VIEWER, {}, member.token)).viewer.member.id).toBe(member.memberId);

    const { memberTokenRevoke } = await app.data(MEMBER_TOKEN_REVOKE, { input: { accessTokenId: member.tokenId } }, org.ownerToken);
    expectNoUserErrors(memberTokenRevoke);
    expect(memberTokenRevoke.token).toEqual({ id: member.tokenId, revokedAt: expect.any(String) });

    expectTopLevelError(await app.gql(VIEWER, {}, member.token), 'UNAUTHENTICATED', 401);
    expectTopLevelError(await app.gql(WORKSPACE_CREATE, { input: { name: 'Late' } }, member.token), 'UNAUTHENTICATED', 401);
    // The member's other token still works, as does revoking one's own token.
    expect((await app.data(VIEWER, {}, memberTokenCreate.secret)).viewer.member.id).toBe(member.memberId);
    const own = await app.data(MEMBER_TOKEN_REVOKE, { input: { accessTokenId: memberTokenCreate.token.id } }, memberTokenCreate.secret);
    expectNoUserErrors(own.memberTokenRevoke);
    expectTopLevelError(await app.gql(VIEWER, {}, memberTokenCreate.secret), 'UNAUTHENTICATED', 401);
    expect((await app.data(VIEWER, {}, org.ownerToken)).viewer.member.id).toBe(org.ownerId);
  });

  it("refuses every token of a removed member and hides the member from the organization's list", async () => {
    const org = await createOrganization(app);
    const member = await createMemberWithToken(app, org.ownerToken, 'ADMIN');
    const { memberTokenCreate } = await app.data(MEMBER_TOKEN_CREATE, { input: { memberId: member.memberId, name: 'laptop' } }, org.ownerToken);
    expectNoUserErrors(memberTokenCreate);
    for (const token of [member.token, memberTokenCreate.secret]) {
      expect((await app.data(VIEWER, {}, token)).viewer.member.id).toBe(member.memberId);
    }

    const { memberRemove } = await app.data(MEMBER_REMOVE, { input: { memberId: member.memberId } }, org.ownerToken);
    expectNoUserErrors(memberRemove);
    expect(memberRemove.member).toEqual({ id: member.memberId, role: 'ADMIN', removedAt: expect.any(String) });
    expect(memberRemove.removedId).toBe(member.memberId);

    for (const token of [member.token, memberTokenCreate.secret]) {
      expectTopLevelError(await app.gql(VIEWER, {}, token), 'UNAUTHENTICATED', 401);
    }
    const [{ active }] = await app.orm.em
      .fork()
      .execute('select count(*)::int as active from access_tokens where member_id = ? and revoked_at is null', [member.memberId]);
    expect(active).toBe(0);

    const { organization } = await app.data(ORGANIZATION, {}, org.ownerToken);
    expect(organization.members.nodes).toEqual([{ id: org.ownerId }]);
    // Removed once: a second removal and a new token for them find no such member.
    const again = await app.data(MEMBER_REMOVE, { input: { memberId: member.memberId } }, org.ownerToken);
    expect(again.memberRemove.userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND', field: ['input', 'memberId'] })]);
    const revived = await app.data(MEMBER_TOKEN_CREATE, { input: { memberId: member.memberId, name: 'back door' } }, org.ownerToken);
    expect(revived.memberTokenCreate).toMatchObject({ token: null, secret: null, userErrors: [expect.objectContaining({ code: 'NOT_FOUND' })] });
  });
});

describe('owners', () => {
  it('does not let an ADMIN create, remove or impersonate an OWNER', async () => {
    const org = await createOrganization(app);
    const admin = await createMemberWithToken(app, org.ownerToken, 'ADMIN');
    const [{ tokenId: ownerTokenId }] = await app.orm.em
      .fork()
      .execute('select id as "tokenId" from access_tokens where member_id = ?', [org.ownerId]);
    const before = await organizationState(app, org.organizationId);

    const attempts: Array<[string, Record<string, unknown>]> = [
      [MEMBER_CREATE, { name: 'Second owner', email: 'second@example.com', role: 'OWNER' }],
      [MEMBER_REMOVE, { memberId: org.ownerId }],
      [MEMBER_TOKEN_CREATE, { memberId: org.ownerId, name: 'impersonation' }],
      [MEMBER_TOKEN_REVOKE, { accessTokenId: ownerTokenId }],
    ];
    for (const [document, input] of attempts) expectTopLevelError(await app.gql(document, { input }, admin.token), 'FORBIDDEN', 403);
    expect(await organizationState(app, org.organizationId)).toEqual(before);
    expect((await app.data(VIEWER, {}, org.ownerToken)).viewer.member.role).toBe('OWNER');

    // An admin does manage the roles below OWNER.
    const { memberCreate } = await app.data(MEMBER_CREATE, { input: { name: 'Another admin', email: 'admin2@example.com', role: 'ADMIN' } }, admin.token);
    expectNoUserErrors(memberCreate);
    const { memberRemove } = await app.data(MEMBER_REMOVE, { input: { memberId: memberCreate.member.id } }, admin.token);
    expectNoUserErrors(memberRemove);
  });

  it('never removes the last owner; a second owner makes removal possible', async () => {
    const org = await createOrganization(app);
    const before = await organizationState(app, org.organizationId);
    const alone = await app.data(MEMBER_REMOVE, { input: { memberId: org.ownerId } }, org.ownerToken);
    expect(alone.memberRemove).toEqual({
      removedId: null,
      member: null,
      userErrors: [expect.objectContaining({ code: 'LAST_OWNER', field: ['input', 'memberId'] })],
    });
    expect(await organizationState(app, org.organizationId)).toEqual(before);
    expect((await app.data(VIEWER, {}, org.ownerToken)).viewer.member.id).toBe(org.ownerId);

    const second = await createMemberWithToken(app, org.ownerToken, 'OWNER');
    const { memberRemove } = await app.data(MEMBER_REMOVE, { input: { memberId: org.ownerId } }, second.token);
    expectNoUserErrors(memberRemove);
    expect(memberRemove.member).toMatchObject({ id: org.ownerId, role: 'OWNER', removedAt: expect.any(String) });
    expectTopLevelError(await app.gql(VIEWER, {}, org.ownerToken), 'UNAUTHENTICATED', 401);

    // Now the second owner is the last one.
    const last = await app.data(MEMBER_REMOVE, { input: { memberId: second.memberId } }, second.token);
    expect(last.memberRemove.userErrors).toEqual([expect.objectContaining({ code: 'LAST_OWNER' })]);
    const { organization } = await app.data(ORGANIZATION, {}, second.token);
    expect(organization.members.nodes).toEqual([{ id: second.memberId }]);
  });

  it('keeps one owner when two owners remove each other at the same time', async () => {
    const org = await createOrganization(app);
    const second = await createMemberWithToken(app, org.ownerToken, 'OWNER');
    const results = await Promise.all([
      app.gql(MEMBER_REMOVE, { input: { memberId: second.memberId } }, org.ownerToken),
      app.gql(MEMBER_REMOVE, { input: { memberId: org.ownerId } }, second.token),
    ]);
    // The loser is refused as the last owner, or, if it arrives after the other commit, as removed.
    const outcomes = results.map((r) => r.errors?.[0]?.extensions?.code ?? r.data.memberRemove.userErrors[0]?.code ?? 'REMOVED');
    expect(outcomes.filter((outcome) => outcome === 'REMOVED')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome !== 'REMOVED')).toEqual([expect.stringMatching(/^(LAST_OWNER|UNAUTHENTICATED)$/)]);
    const [{ owners }] = await app.orm.em
      .fork()
      .execute("select count(*)::int as owners from members where organization_id = ? and role = 'OWNER' and removed_at is null", [
        org.organizationId,
      ]);
    expect(owners).toBe(1);
  });
});

describe('malformed and invalid input', () => {
  async function twoWallets() {
    const org = await createOrganization(app);
    const main = await createWorkspace(app, org.ownerToken, 'Main');
    const side = await createWorkspace(app, org.ownerToken, 'Side');
    await fund(app, main.walletId, '10');
    const member = await createMemberWithToken(app, org.ownerToken, 'MEMBER');
    return { ...org, main, side, member };
  }

  it('answers BAD_USER_INPUT naming the argument for a malformed id, and changes nothing', async () => {
    const org = await twoWallets();
    const before = await organizationState(app, org.organizationId);
    const transfer = (fromWalletId: string, toWalletId: string) => ({
      input: { fromWalletId, toWalletId, amount: '1', idempotencyKey: unique('bad') },
    });
    const cases: Array<[string, string, Record<string, unknown>, string, string?]> = [
      ['node wal_x', NODE, { id: 'wal_x' }, 'id'],
      ['node empty', NODE, { id: '' }, 'id'],
      ['node unknown prefix', NODE, { id: `zzz_${'a'.repeat(22)}` }, 'id'],
      ['organization(wallet id)', ORGANIZATION, { id: org.main.walletId }, 'id'],
      ['organization empty', ORGANIZATION, { id: '' }, 'id'],
      ['transfer from wal_x', TRANSFER, transfer('wal_x', org.side.walletId), 'input.fromWalletId'],
      ['transfer from org id', TRANSFER, transfer(org.organizationId, org.side.walletId), 'input.fromWalletId'],
      ['transfer to workspace id', TRANSFER, transfer(org.main.walletId, org.side.workspaceId), 'input.toWalletId'],
      ['transfer from empty', TRANSFER, transfer('', org.side.walletId), 'input.fromWalletId'],
      [
        'adjust org id',
        ADJUST,
        { input: { walletId: org.organizationId, amount: '1', description: 'x', idempotencyKey: unique('bad') } },
        'input.walletId',
        ADMIN_TOKEN,
      ],
      ['memberRemove wallet id', MEMBER_REMOVE, { input: { memberId: org.main.walletId } }, 'input.memberId'],
      ['memberTokenCreate empty', MEMBER_TOKEN_CREATE, { input: { memberId: '', name: 'x' } }, 'input.memberId'],
      ['memberTokenRevoke member id', MEMBER_TOKEN_REVOKE, { input: { accessTokenId: org.member.memberId } }, 'input.accessTokenId'],
      ['projectCreate wallet id', PROJECT_CREATE, { input: { workspaceId: org.main.walletId, name: 'P' } }, 'input.workspaceId'],
      ['workspaceCreate org_…', WORKSPACE_CREATE, { input: { name: 'W', organizationId: 'org_…' } }, 'input.organizationId'],
      ['workspaceCreate wallet id', WORKSPACE_CREATE, { input: { name: 'W', organizationId: org.main.walletId } }, 'input.organizationId'],
    ];
    for (const [label, document, variables, argument, token = org.ownerToken] of cases) {
      const result = await app.gql(document, variables, token);
      expect({ label, codes: codes(result) }).toEqual({ label, codes: ['BAD_USER_INPUT'] });
      expect(result.errors![0].message.startsWith(`${argument}:`)).toBe(true);
    }
    const misplaced = await app.gql(TRANSFER, transfer(org.organizationId, org.side.walletId), org.ownerToken);
    expect(misplaced.errors![0].message).toBe(`input.fromWalletId: "${org.organizationId}" is not a valid wal_… id`);
    expect(await organizationState(app, org.organizationId)).toEqual(before);
  });

  it('refuses amounts that are not positive, exact decimal strings, and changes nothing', async () => {
    const org = await twoWallets();
    const before = await organizationState(app, org.organizationId);
    const transfer = (amount: unknown) =>
      app.gql(TRANSFER, { input: { fromWalletId: org.main.walletId, toWalletId: org.side.walletId, amount, idempotencyKey: unique('amt') } }, org.ownerToken);
    const adjust = (amount: unknown) =>
      app.gql(ADJUST, { input: { walletId: org.main.walletId, amount, description: 'x', idempotencyKey: unique('amt') } }, ADMIN_TOKEN);

    // Well-formed but not allowed: a business refusal.
    for (const [label, result] of [
      ['transfer -1', await transfer('-1')],
      ['transfer 0', await transfer('0')],
      ['transfer -0.000000001', await transfer('-0.000000001')],
      ['adjust 0', await adjust('0')],
      ['adjust 0.000000000', await adjust('0.000000000')],
    ] as const) {
      expect(result.errors).toBeUndefined();
      const payload = result.data.walletTransfer ?? result.data.walletAdjust;
      expect({ label, userErrors: payload.userErrors }).toEqual({
        label,
        userErrors: [expect.objectContaining({ code: 'INVALID', field: ['input', 'amount'] })],
      });
    }

    // Malformed: a top-level error that says what is wrong.
    const malformed: Array<[unknown, RegExp]> = [
      ['0.0000000001', /at most 9 fractional digits/],
      ['1e3', /decimal string/],
      [5, /decimal string/],
      ['99999999999999999999', /out of range/],
      ['', /decimal string/],
      ['NaN', /decimal string/],
      ['-1e-3', /decimal string/],
    ];
    for (const [amount, message] of malformed) {
      for (const send of [transfer, adjust]) {
        const result = await send(amount);
        expect({ amount, codes: codes(result) }).toEqual({ amount, codes: ['BAD_USER_INPUT'] });
        expect(result.errors![0].message).toMatch(message);
        expect(result.errors![0].message).toMatch(/amount/);
      }
    }
    // The same, written inline in the document rather than as a variable.
    const inline = await app.gql(
      `mutation { walletTransfer(input: { fromWalletId: "${org.main.walletId}", toWalletId: "${org.side.walletId}", amount: 5, idempotencyKey: "inline" }) { userErrors { code } } }`,
      {},
      org.ownerToken,
    );
    expect(inline.errors?.length).toBe(1);
    expect(inline.errors![0].message).toMatch(/Money must be a string/);
    expect(inline.data).toBeUndefined();

    expect(await organizationState(app, org.organizationId)).toEqual(before);
    expect(await balanceOf(app, org.main.walletId)).toBe('10');
    expect(await balanceOf(app, org.side.walletId)).toBe('0');
  });

  it('refuses empty and over-long idempotency keys, and changes nothing', async () => {
    const org = await twoWallets();
    const before = await organizationState(app, org.organizationId);
    for (const key of ['', '   ', 'k'.repeat(256), 'k'.repeat(300)]) {
      const transfer = await app.data(
        TRANSFER,
        { input: { fromWalletId: org.main.walletId, toWalletId: org.side.walletId, amount: '1', idempotencyKey: key } },
        org.ownerToken,
      );
      const adjust = await app.data(
        ADJUST,
        { input: { walletId: org.main.walletId, amount: '1', description: 'x', idempotencyKey: key } },
        ADMIN_TOKEN,
      );
      for (const payload of [transfer.walletTransfer, adjust.walletAdjust]) {
        expect({ length: key.length, userErrors: payload.userErrors }).toEqual({
          length: key.length,
          userErrors: [expect.objectContaining({ code: 'INVALID', field: ['input', 'idempotencyKey'] })],
        });
      }
    }
    expect(await organizationState(app, org.organizationId)).toEqual(before);

    // 255 characters is the longest key allowed.
    const longest = await app.data(
      TRANSFER,
      { input: { fromWalletId: org.main.walletId, toWalletId: org.side.walletId, amount: '1', idempotencyKey: 'k'.repeat(255) } },
      org.ownerToken,
    );
    expectNoUserErrors(longest.walletTransfer);
    expect(await balanceOf(app, org.side.walletId)).toBe('1');
  });

  it('refuses empty names and descriptions, and changes nothing', async () => {
    const org = await twoWallets();
    const before = await organizationState(app, org.organizationId);
    const orgName = unique('Nameless');
    const cases: Array<[string, string, Record<string, unknown>, string[], string?]> = [
      ['organizationCreate', ORGANIZATION_CREATE, { name: '', ownerName: 'O', ownerEmail: 'o@example.com' }, ['input', 'name'], ADMIN_TOKEN],
      ['organizationCreate', ORGANIZATION_CREATE, { name: orgName, ownerName: '  ', ownerEmail: 'o@example.com' }, ['input', 'ownerName'], ADMIN_TOKEN],
      ['organizationCreate', ORGANIZATION_CREATE, { name: orgName, ownerName: 'O', ownerEmail: 'not an email' }, ['input', 'ownerEmail'], ADMIN_TOKEN],
      ['workspaceCreate', WORKSPACE_CREATE, { name: '' }, ['input', 'name']],
      ['workspaceCreate', WORKSPACE_CREATE, { name: ' \t ' }, ['input', 'name']],
      ['workspaceCreate', WORKSPACE_CREATE, { name: 'w'.repeat(201) }, ['input', 'name']],
      ['workspaceCreate', WORKSPACE_CREATE, { name: '', organizationId: org.organizationId }, ['input', 'name'], ADMIN_TOKEN],
      ['projectCreate', PROJECT_CREATE, { workspaceId: org.main.workspaceId, name: '' }, ['input', 'name']],
      ['memberCreate', MEMBER_CREATE, { name: '', email: 'nameless@example.com', role: 'VIEWER' }, ['input', 'name']],
      ['memberCreate', MEMBER_CREATE, { name: 'Named', email: '', role: 'VIEWER' }, ['input', 'email']],
      ['memberTokenCreate', MEMBER_TOKEN_CREATE, { memberId: org.member.memberId, name: '' }, ['input', 'name']],
      ['walletAdjust', ADJUST, { walletId: org.main.walletId, amount: '1', description: '', idempotencyKey: unique('d') }, ['input', 'description'], ADMIN_TOKEN],
      [
        'walletTransfer',
        TRANSFER,
        { fromWalletId: org.main.walletId, toWalletId: org.side.walletId, amount: '1', description: ' ', idempotencyKey: unique('d') },
        ['input', 'description'],
      ],
    ];
    for (const [mutation, document, input, field, token = org.ownerToken] of cases) {
      const result = await app.gql(document, { input }, token);
      expect(result.errors).toBeUndefined();
      expect({ mutation, input, userErrors: result.data[mutation].userErrors }).toEqual({
        mutation,
        input,
        userErrors: [expect.objectContaining({ code: 'INVALID', field, message: expect.any(String) })],
      });
    }
    expect(await organizationState(app, org.organizationId)).toEqual(before);
    const [{ count }] = await app.orm.em.fork().execute('select count(*)::int as count from organizations where name = ?', [orgName]);
    expect(count).toBe(0);
  });

  it('answers NOT_FOUND for well-formed ids that exist nowhere', async () => {
    const org = await twoWallets();
    const before = await organizationState(app, org.organizationId);
    expect((await app.data(NODE, { id: newId('wallet') }, org.ownerToken)).node).toBeNull();
    expect((await app.data(NODE, { id: newId('wallet') }, ADMIN_TOKEN)).node).toBeNull();
    const transfer = await app.data(
      TRANSFER,
      { input: { fromWalletId: org.main.walletId, toWalletId: newId('wallet'), amount: '1', idempotencyKey: unique('nf') } },
      org.ownerToken,
    );
    expect(transfer.walletTransfer.userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND', field: ['input', 'toWalletId'] })]);
    const adjust = await app.data(
      ADJUST,
      { input: { walletId: newId('wallet'), amount: '1', description: 'x', idempotencyKey: unique('nf') } },
      ADMIN_TOKEN,
    );
    expect(adjust.walletAdjust.userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND', field: ['input', 'walletId'] })]);
    const workspace = await app.data(WORKSPACE_CREATE, { input: { name: 'Ghost', organizationId: newId('organization') } }, ADMIN_TOKEN);
    expect(workspace.workspaceCreate.userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND', field: ['input', 'organizationId'] })]);
    expect(await organizationState(app, org.organizationId)).toEqual(before);
  });
});
