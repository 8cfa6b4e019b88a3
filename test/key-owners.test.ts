import { ADMIN_TOKEN, GATEWAY_TOKEN, useTestApp } from './support/app';
import { createMemberWithToken, createOrganization, createWorkspace, expectNoUserErrors, fund, MEMBER_REMOVE, organizationWithWorkspace } from './support/fixtures';
import { authorize, CAPTURE, createApiKey, debit, gatewaySetup } from './support/gateway';

/** The server's clock, moved by the test so that calls land in chosen hours. */
let now = new Date('2026-03-02T10:15:00Z');
const app = useTestApp({ clock: () => now });

const CREATE = `mutation ($input: ApiKeyCreateInput!) {
  apiKeyCreate(input: $input) { apiKey { id owner { id name } } secret userErrors { field code message } }
}`;
const UPDATE = `mutation ($input: ApiKeyUpdateInput!) {
  apiKeyUpdate(input: $input) { apiKey { id owner { id } } userErrors { field code message } }
}`;
const USAGE = `query ($filter: UsageFilterInput!, $groupBy: [UsageGroup!]!) {
  usage(filter: $filter, groupBy: $groupBy) { rows { member { id } apiKey { id } cost requests } total { cost requests } }
}`;

describe('the owner of an API key', () => {
  it('is the member who creates it, or the member an owner or admin names', async () => {
    const org = await organizationWithWorkspace(app);
    const admin = await createMemberWithToken(app, org.ownerToken, 'ADMIN');
    const member = await createMemberWithToken(app, org.ownerToken, 'MEMBER');
    const own = (await app.data(CREATE, { input: { workspaceId: org.workspaceId, name: 'Mine' } }, org.ownerToken)).apiKeyCreate;
    expect(own).toMatchObject({ apiKey: { owner: { id: org.ownerId, name: 'Olivia Owner' } }, userErrors: [] });
    const named = (await app.data(CREATE, { input: { workspaceId: org.workspaceId, name: 'Theirs', ownerMemberId: member.memberId } }, admin.token)).apiKeyCreate;
    expect(named).toMatchObject({ apiKey: { owner: { id: member.memberId } }, userErrors: [] });
    const byAdmin = (await app.data(CREATE, { input: { workspaceId: org.workspaceId, name: 'Admin' } }, admin.token)).apiKeyCreate;
    expect(byAdmin.apiKey.owner.id).toBe(admin.memberId);

    // Owners and admins hand a key over; a member cannot.
    const handed = (await app.data(UPDATE, { input: { apiKeyId: own.apiKey.id, ownerMemberId: admin.memberId } }, admin.token)).apiKeyUpdate;
    expect(handed).toEqual({ apiKey: { id: own.apiKey.id, owner: { id: admin.memberId } }, userErrors: [] });
    expect((await app.gql(UPDATE, { input: { apiKeyId: own.apiKey.id, ownerMemberId: member.memberId } }, member.token)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    // Left out or null: unchanged.
    expect((await app.data(UPDATE, { input: { apiKeyId: own.apiKey.id, name: 'Renamed', ownerMemberId: null } }, org.ownerToken)).apiKeyUpdate.apiKey.owner.id).toBe(admin.memberId);
  });

  it('must be a current member of the organization: another organization\'s or a removed one is NOT_FOUND, and nothing changes', async () => {
    const org = await organizationWithWorkspace(app);
    const other = await createOrganization(app);
    const leaving = await createMemberWithToken(app, org.ownerToken, 'MEMBER');
    expectNoUserErrors((await app.data(MEMBER_REMOVE, { input: { memberId: leaving.memberId } }, org.ownerToken)).memberRemove);
    const notFound = { field: ['input', 'ownerMemberId'], code: 'NOT_FOUND', message: 'No such member in this organization' };
    for (const ownerMemberId of [other.ownerId, leaving.memberId]) {
      expect((await app.data(CREATE, { input: { workspaceId: org.workspaceId, name: 'x', ownerMemberId } }, org.ownerToken)).apiKeyCreate).toEqual({
        apiKey: null,
        secret: null,
        userErrors: [notFound],
      });
    }
    const key = (await app.data(CREATE, { input: { workspaceId: org.workspaceId, name: 'Kept' } }, org.ownerToken)).apiKeyCreate.apiKey;
    for (const ownerMemberId of [other.ownerId, leaving.memberId]) {
      expect((await app.data(UPDATE, { input: { apiKeyId: key.id, ownerMemberId } }, org.ownerToken)).apiKeyUpdate).toEqual({ apiKey: null, userErrors: [notFound] });
    }
    const { node } = await app.data(`query ($id: ID!) { node(id: $id) { ... on ApiKey { owner { id } } } }`, { id: key.id }, org.ownerToken);
    expect(node.owner.id).toBe(org.ownerId);
  });

  it('is null for a key made before keys had owners', async () => {
    const fixture = await gatewaySetup(app, '1');
    await app.orm.em.fork().execute('update api_keys set owner_member_id = null where id = ?', [fixture.apiKeyId]);
    const { node } = await app.data(`query ($id: ID!) { node(id: $id) { ... on ApiKey { owner { id } } } }`, { id: fixture.apiKeyId }, fixture.ownerToken);
    expect(node.owner).toBeNull();
    expect((await debit(app, fixture)).allowed).toBe(true);
  });
});

describe('usage per member', () => {
  it("counts each call for the key's owner at the time of the call, from the rollup and the ledger alike", async () => {
    const fixture = await gatewaySetup(app, '10');
    const admin = await createMemberWithToken(app, fixture.ownerToken, 'ADMIN');
    const legacy = await createApiKey(app, fixture.ownerToken, fixture.workspaceId);
    await app.orm.em.fork().execute('update api_keys set owner_member_id = null where id = ?', [legacy.apiKeyId]);

    now = new Date('2026-03-02T10:15:00Z');
    expect((await debit(app, fixture)).allowed).toBe(true); // owner: 0.0011
    const held = await authorize(app, fixture, { maxInputTokens: 2000 });
    expect((await debit(app, { secret: legacy.secret, model: fixture.model })).allowed).toBe(true); // no owner: 0.0011
    expectNoUserErrors((await app.data(UPDATE, { input: { apiKeyId: fixture.apiKeyId, ownerMemberId: admin.memberId } }, fixture.ownerToken)).apiKeyUpdate);
    now = new Date('2026-03-02T10:45:00Z');
    expect((await debit(app, fixture, { inputTokens: 3000 })).allowed).toBe(true); // admin: 0.0033
    // Authorized under the owner, captured after the hand-over: the call is charged now, for the admin.
    const { gatewayCapture } = await app.data(CAPTURE, { input: { holdId: held.hold.id, inputTokens: 2000, outputTokens: 0 } }, GATEWAY_TOKEN);
    expect(gatewayCapture.allowed).toBe(true); // admin: 0.0022

    const report = async (filter: Record<string, unknown>, groupBy: string[]) =>
      (await app.data(USAGE, { filter: { from: '2026-03-02T00:00:00Z', to: '2026-03-03T00:00:00Z', ...filter }, groupBy }, fixture.ownerToken)).usage;
    const byMember = (usage: any) => Object.fromEntries(usage.rows.map((row: any) => [row.member?.id ?? 'none', [row.cost, row.requests]]));
    const expected = { [fixture.ownerId]: ['0.0011', '1'], [admin.memberId]: ['0.0055', '2'], none: ['0.0011', '1'] };
    // Whole hours: from the hourly rollup.
    expect(byMember(await report({}, ['MEMBER']))).toEqual(expected);
    // Partial hours: from the ledger.
    expect(byMember(await report({ from: '2026-03-02T10:00:01Z', to: '2026-03-02T10:59:59Z' }, ['MEMBER']))).toEqual(expected);
    expect((await report({ memberIds: [admin.memberId] }, [])).total).toEqual({ cost: '0.0055', requests: '2' });
    expect((await report({ memberIds: [admin.memberId] }, ['MEMBER', 'API_KEY'])).rows).toEqual([
      { member: { id: admin.memberId }, apiKey: { id: fixture.apiKeyId }, cost: '0.0055', requests: '2' },
    ]);
    const malformed = await app.gql(USAGE, { filter: { from: '2026-03-02T00:00:00Z', to: '2026-03-03T00:00:00Z', memberIds: [fixture.apiKeyId] }, groupBy: [] }, fixture.ownerToken);
    expect(malformed.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('the balance of an organization', () => {
  const BALANCES = `query ($a: ID!, $b: ID!) {
    a: organization(id: $a) { balance availableBalance }
    b: organization(id: $b) { balance availableBalance }
  }`;

  /** The SQL statements the server runs to answer `query`. */
  async function statementsFor(query: string, variables: Record<string, unknown>): Promise<{ count: number; data: any }> {
    const knex = app.orm.em.getConnection().getKnex();
    let count = 0;
    const listener = () => (count += 1);
    knex.on('query', listener);
    try {
      return { data: await app.data(query, variables, ADMIN_TOKEN), count };
    } finally {
      knex.removeListener('query', listener);
    }
  }

  it("sums its workspaces' wallets, less the holds for the available balance; one query for a list of organizations", async () => {
    const fixture = await gatewaySetup(app, '10');
    const second = await createWorkspace(app, fixture.ownerToken);
    await fund(app, second.walletId, '2.5');
    expect((await authorize(app, fixture, { maxInputTokens: 1_000_000 })).hold.amount).toBe('1.1');
    const empty = await createOrganization(app);

    const variables = { a: fixture.organizationId, b: empty.organizationId };
    const { data, count } = await statementsFor(BALANCES, variables);
    expect(data).toEqual({ a: { balance: '12.5', availableBalance: '11.4' }, b: { balance: '0', availableBalance: '0' } });
    const { count: withoutBalances } = await statementsFor(`query ($a: ID!, $b: ID!) { a: organization(id: $a) { id } b: organization(id: $b) { id } }`, variables);
    expect(count - withoutBalances).toBe(1);
    const { organization } = await app.data(`{ organization { balance availableBalance } }`, {}, fixture.ownerToken);
    expect(organization).toEqual({ balance: '12.5', availableBalance: '11.4' });
  });
});
