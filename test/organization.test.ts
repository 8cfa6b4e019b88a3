import { newId } from '../src/ids';
import { ADMIN_TOKEN, useTestApp } from './support/app';
import {
  ADJUST,
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

const VIEWER = `{ viewer { kind member { id name email role } organization { id name } } }`;

describe('organizationCreate', () => {
  it('returns the organization, its owner and an owner token that works at once', async () => {
    const name = unique('Acme');
    const { organizationCreate } = await app.data(
      ORGANIZATION_CREATE,
      { input: { name, ownerName: 'Ada Owner', ownerEmail: 'ada@acme.example' } },
      ADMIN_TOKEN,
    );
    expect(organizationCreate).toEqual({
      organization: { id: expect.stringMatching(/^org_[0-9A-Za-z]{22}$/), name, createdAt: expect.any(String) },
      owner: { id: expect.stringMatching(/^mem_[0-9A-Za-z]{22}$/), name: 'Ada Owner', email: 'ada@acme.example', role: 'OWNER', removedAt: null },
      ownerToken: expect.stringMatching(/^tgm_/),
      userErrors: [],
    });
    const { organization, owner, ownerToken } = organizationCreate;

    const { viewer } = await app.data(VIEWER, {}, ownerToken);
    expect(viewer).toEqual({
      kind: 'MEMBER',
      member: { id: owner.id, name: 'Ada Owner', email: 'ada@acme.example', role: 'OWNER' },
      organization: { id: organization.id, name },
    });
    const mine = await app.data(`{ organization { id name workspaces { nodes { id } } members { nodes { id role } } } }`, {}, ownerToken);
    expect(mine.organization).toEqual({ id: organization.id, name, workspaces: { nodes: [] }, members: { nodes: [{ id: owner.id, role: 'OWNER' }] } });
    // The platform admin reads any organization by id; its viewer is no member.
    const admin = await app.data(`query ($id: ID) { organization(id: $id) { id name } }`, { id: organization.id }, ADMIN_TOKEN);
    expect(admin.organization).toEqual({ id: organization.id, name });
    expect((await app.data(VIEWER, {}, ADMIN_TOKEN)).viewer).toEqual({ kind: 'PLATFORM_ADMIN', member: null, organization: null });
  });

  it('refuses a name that is taken, and creates nothing', async () => {
    const name = unique('Taken');
    await createOrganization(app, name);
    const { organizationCreate } = await app.data(
      ORGANIZATION_CREATE,
      { input: { name, ownerName: 'Other', ownerEmail: 'other@example.com' } },
      ADMIN_TOKEN,
    );
    expect(organizationCreate).toEqual({
      organization: null,
      owner: null,
      ownerToken: null,
      userErrors: [expect.objectContaining({ code: 'TAKEN', field: ['input', 'name'] })],
    });
    const [{ organizations, members }] = await app.orm.em.fork().execute(
      `select count(distinct o.id)::int as organizations, count(m.id)::int as members
         from organizations o left join members m on m.organization_id = o.id where o.name = ?`,
      [name],
    );
    expect({ organizations, members }).toEqual({ organizations: 1, members: 1 });
  });
});

describe('members and their tokens', () => {
  it('creates members, lists them, and refuses an email already in use', async () => {
    const org = await createOrganization(app);
    const { memberCreate } = await app.data(
      MEMBER_CREATE,
      { input: { name: 'Vera Viewer', email: 'vera@example.com', role: 'VIEWER' } },
      org.ownerToken,
    );
    expect(memberCreate).toEqual({
      member: { id: expect.stringMatching(/^mem_/), name: 'Vera Viewer', email: 'vera@example.com', role: 'VIEWER', removedAt: null },
      userErrors: [],
    });

    const before = await organizationState(app, org.organizationId);
    for (const email of ['vera@example.com', 'Vera@Example.COM', 'olivia@example.com']) {
      const duplicate = await app.data(MEMBER_CREATE, { input: { name: 'Again', email, role: 'ADMIN' } }, org.ownerToken);
      expect({ email, payload: duplicate.memberCreate }).toEqual({
        email,
        payload: { member: null, userErrors: [expect.objectContaining({ code: 'TAKEN', field: ['input', 'email'] })] },
      });
    }
    expect(await organizationState(app, org.organizationId)).toEqual(before);

    // The same email is free in another organization, and again here once its member is removed.
    const other = await createOrganization(app);
    expectNoUserErrors(
      (await app.data(MEMBER_CREATE, { input: { name: 'Vera', email: 'vera@example.com', role: 'MEMBER' } }, other.ownerToken)).memberCreate,
    );
    expectNoUserErrors((await app.data(MEMBER_REMOVE, { input: { memberId: memberCreate.member.id } }, org.ownerToken)).memberRemove);
    const again = await app.data(MEMBER_CREATE, { input: { name: 'Vera, back', email: 'vera@example.com', role: 'MEMBER' } }, org.ownerToken);
    expectNoUserErrors(again.memberCreate);
    expect(again.memberCreate.member.id).not.toBe(memberCreate.member.id);

    const { organization } = await app.data(`{ organization { members { nodes { id email role } } } }`, {}, org.ownerToken);
    expect(organization.members.nodes).toEqual([
      { id: org.ownerId, email: 'olivia@example.com', role: 'OWNER' },
      { id: again.memberCreate.member.id, email: 'vera@example.com', role: 'MEMBER' },
    ]);
  });

  it('issues a token whose secret authenticates as that member', async () => {
    const org = await createOrganization(app);
    const { memberCreate } = await app.data(
      MEMBER_CREATE,
      { input: { name: 'Adam Admin', email: 'adam@example.com', role: 'ADMIN' } },
      org.ownerToken,
    );
    const { memberTokenCreate } = await app.data(
      MEMBER_TOKEN_CREATE,
      { input: { memberId: memberCreate.member.id, name: 'CI' } },
      org.ownerToken,
    );
    expect(memberTokenCreate).toEqual({
      token: { id: expect.stringMatching(/^tok_/), name: 'CI', prefix: expect.any(String), createdAt: expect.any(String), revokedAt: null },
      secret: expect.stringMatching(/^tgm_[0-9A-Za-z]{20,}$/),
      userErrors: [],
    });
    expect(memberTokenCreate.secret.startsWith(memberTokenCreate.token.prefix)).toBe(true);
    expect(memberTokenCreate.secret.length).toBeGreaterThan(memberTokenCreate.token.prefix.length + 16);

    const { viewer } = await app.data(VIEWER, {}, memberTokenCreate.secret);
    expect(viewer.member).toEqual({ id: memberCreate.member.id, name: 'Adam Admin', email: 'adam@example.com', role: 'ADMIN' });
    expect(viewer.organization.id).toBe(org.organizationId);

    // Only the hash is stored.
    const [row] = await app.orm.em.fork().execute('select token_hash from access_tokens where id = ?', [memberTokenCreate.token.id]);
    expect(row.token_hash).not.toContain(memberTokenCreate.secret);
    expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('revokes a token idempotently', async () => {
    const org = await createOrganization(app);
    const member = await createMemberWithToken(app, org.ownerToken, 'MEMBER');
    const first = await app.data(MEMBER_TOKEN_REVOKE, { input: { accessTokenId: member.tokenId } }, org.ownerToken);
    expect(first.memberTokenRevoke).toEqual({ token: { id: member.tokenId, revokedAt: expect.any(String) }, userErrors: [] });
    const before = await organizationState(app, org.organizationId);

    const second = await app.data(MEMBER_TOKEN_REVOKE, { input: { accessTokenId: member.tokenId } }, org.ownerToken);
    expect(second.memberTokenRevoke).toEqual(first.memberTokenRevoke);
    expect(await organizationState(app, org.organizationId)).toEqual(before);
    expect(codes(await app.gql(VIEWER, {}, member.token))).toEqual(['UNAUTHENTICATED']);
    const { node } = await app.data(`query ($id: ID!) { node(id: $id) { ... on AccessToken { revokedAt } } }`, { id: member.tokenId }, org.ownerToken);
    expect(node.revokedAt).toBe(first.memberTokenRevoke.token.revokedAt);
  });
});

describe('workspaces and projects', () => {
  it('creates a workspace with a wallet at zero and no transactions', async () => {
    const org = await createOrganization(app);
    const { workspaceCreate } = await app.data(
      `mutation ($input: WorkspaceCreateInput!) {
         workspaceCreate(input: $input) {
           workspace {
             id name organization { id }
             wallet {
               id balance workspace { id }
               transactions(first: 10) { edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
             }
           }
           userErrors { code }
         }
       }`,
      { input: { name: 'Production' } },
      org.ownerToken,
    );
    const { workspace } = workspaceCreate;
    expect(workspaceCreate.userErrors).toEqual([]);
    expect(workspace).toEqual({
      id: expect.stringMatching(/^ws_/),
      name: 'Production',
      organization: { id: org.organizationId },
      wallet: {
        id: expect.stringMatching(/^wal_/),
        balance: '0',
        workspace: { id: workspace.id },
        transactions: { edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } },
      },
    });
    const [row] = await app.orm.em
      .fork()
      .execute('select balance::text as balance, organization_id from wallets where id = ?', [workspace.wallet.id]);
    expect(row).toEqual({ balance: '0', organization_id: org.organizationId });
    const { organization } = await app.data(`{ organization { workspaces { nodes { id name wallet { id } } } } }`, {}, org.ownerToken);
    expect(organization.workspaces.nodes).toEqual([{ id: workspace.id, name: 'Production', wallet: { id: workspace.wallet.id } }]);
  });

  it('refuses a workspace name taken in the organization, but not in another', async () => {
    const org = await createOrganization(app);
    await createWorkspace(app, org.ownerToken, 'Staging');
    const before = await organizationState(app, org.organizationId);
    const duplicate = await app.data(WORKSPACE_CREATE, { input: { name: 'Staging' } }, org.ownerToken);
    expect(duplicate.workspaceCreate).toEqual({
      workspace: null,
      userErrors: [expect.objectContaining({ code: 'TAKEN', field: ['input', 'name'] })],
    });
    expect(await organizationState(app, org.organizationId)).toEqual(before);

    const other = await createOrganization(app);
    expectNoUserErrors((await app.data(WORKSPACE_CREATE, { input: { name: 'Staging' } }, other.ownerToken)).workspaceCreate);
  });

  it('lets the platform admin create a workspace in a named organization, and only a named one', async () => {
    const org = await createOrganization(app);
    const { workspaceCreate } = await app.data(
      WORKSPACE_CREATE,
      { input: { name: 'Made by staff', organizationId: org.organizationId } },
      ADMIN_TOKEN,
    );
    expect(workspaceCreate).toEqual({
      workspace: { id: expect.any(String), name: 'Made by staff', organization: { id: org.organizationId }, wallet: { id: expect.any(String), balance: '0' } },
      userErrors: [],
    });
    const { organization } = await app.data(`{ organization { workspaces { nodes { id } } } }`, {}, org.ownerToken);
    expect(organization.workspaces.nodes).toEqual([{ id: workspaceCreate.workspace.id }]);

    const unnamed = await app.gql(WORKSPACE_CREATE, { input: { name: 'Nowhere' } }, ADMIN_TOKEN);
    expect(codes(unnamed)).toEqual(['BAD_USER_INPUT']);
    expect(unnamed.errors![0].message).toMatch(/organizationId/);
    const missing = await app.data(WORKSPACE_CREATE, { input: { name: 'Nowhere', organizationId: newId('organization') } }, ADMIN_TOKEN);
    expect(missing.workspaceCreate.userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND', field: ['input', 'organizationId'] })]);
    // A member may name their own organization.
    const own = await app.data(WORKSPACE_CREATE, { input: { name: 'Named', organizationId: org.organizationId } }, org.ownerToken);
    expect(own.workspaceCreate.workspace.organization.id).toBe(org.organizationId);
  });

  it('creates projects and lists them under their workspace', async () => {
    const org = await createOrganization(app);
    const main = await createWorkspace(app, org.ownerToken, 'Main');
    const side = await createWorkspace(app, org.ownerToken, 'Side');
    const created: string[] = [];
    for (const name of ['Chatbot', 'Search', 'Agents']) {
      const { projectCreate } = await app.data(PROJECT_CREATE, { input: { workspaceId: main.workspaceId, name } }, org.ownerToken);
      expect(projectCreate).toEqual({ project: { id: expect.stringMatching(/^prj_/), name }, userErrors: [] });
      created.push(projectCreate.project.id);
    }
    const duplicate = await app.data(PROJECT_CREATE, { input: { workspaceId: main.workspaceId, name: 'Search' } }, org.ownerToken);
    expect(duplicate.projectCreate).toEqual({ project: null, userErrors: [expect.objectContaining({ code: 'TAKEN', field: ['input', 'name'] })] });
    expectNoUserErrors((await app.data(PROJECT_CREATE, { input: { workspaceId: side.workspaceId, name: 'Search' } }, org.ownerToken)).projectCreate);

    const { organization } = await app.data(`{ organization { workspaces { nodes { id projects { nodes { id name } } } } } }`, {}, org.ownerToken);
    expect(organization.workspaces.nodes).toEqual([
      { id: main.workspaceId, projects: { nodes: created.map((id, i) => ({ id, name: ['Chatbot', 'Search', 'Agents'][i] })) } },
      { id: side.workspaceId, projects: { nodes: [{ id: expect.any(String), name: 'Search' }] } },
    ]);
  });
});

describe('the workspaces, members and projects connections', () => {
  const PAGE = (field: string) => `query ($first: Int, $after: String, $last: Int, $before: String) { organization {
    ${field}(first: $first, after: $after, last: $last, before: $before) { edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
  } }`;
  const PROJECTS = `query ($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on Workspace {
    projects(first: $first, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } }
  } } }`;

  /** Every id of a connection, oldest first, in pages of two. */
  async function walk(read: (after: string | null) => Promise<{ ids: string[]; hasNextPage: boolean; endCursor: string | null }>) {
    const ids: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await read(after);
      expect(page.ids.length).toBeLessThanOrEqual(2);
      ids.push(...page.ids);
      if (!page.hasNextPage) return ids;
      after = page.endCursor;
    }
  }

  it('page oldest first with first/after and back with last/before; removed members are left out', async () => {
    const org = await createOrganization(app);
    const workspaces: string[] = [];
    for (const name of ['One', 'Two', 'Three', 'Four', 'Five']) workspaces.push((await createWorkspace(app, org.ownerToken, name)).workspaceId);
    const members = [org.ownerId];
    for (let i = 0; i < 4; i += 1) members.push((await createMemberWithToken(app, org.ownerToken, 'MEMBER')).memberId);
    expectNoUserErrors((await app.data(MEMBER_REMOVE, { input: { memberId: members[2] } }, org.ownerToken)).memberRemove);

    for (const [field, expected] of [['workspaces', workspaces], ['members', members.filter((_, i) => i !== 2)]] as const) {
      const ids = await walk(async (after) => {
        const { organization } = await app.data(PAGE(field), { first: 2, after }, org.ownerToken);
        const { edges, pageInfo } = organization[field];
        return { ids: edges.map((edge: { node: { id: string } }) => edge.node.id), ...pageInfo };
      });
      expect({ field, ids }).toEqual({ field, ids: expected });
      const { organization } = await app.data(PAGE(field), { last: 2 }, org.ownerToken);
      expect(organization[field].edges.map((edge: { node: { id: string } }) => edge.node.id)).toEqual(expected.slice(-2));
      expect(organization[field].pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
      const before = await app.data(PAGE(field), { last: 1, before: organization[field].pageInfo.startCursor }, org.ownerToken);
      expect(before.organization[field].edges.map((edge: { node: { id: string } }) => edge.node.id)).toEqual(expected.slice(-3, -2));
    }

    const projects: string[] = [];
    for (const name of ['A', 'B', 'C']) projects.push((await app.data(PROJECT_CREATE, { input: { workspaceId: workspaces[0], name } }, org.ownerToken)).projectCreate.project.id);
    const ids = await walk(async (after) => {
      const { node } = await app.data(PROJECTS, { id: workspaces[0], first: 2, after }, org.ownerToken);
      return { ids: node.projects.nodes.map((project: { id: string }) => project.id), ...node.projects.pageInfo };
    });
    expect(ids).toEqual(projects);
  });
});

describe('the transactions connection', () => {
  const PAGE = `query ($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $filter: TransactionFilter) {
    node(id: $id) {
      ... on Wallet {
        transactions(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
          edges { cursor node { id type amount createdAt } }
          nodes { id }
          pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        }
      }
    }
  }`;

  interface Row {
    id: string;
    type: string;
    amount: string;
    createdAt: string;
  }
  interface PageShape {
    edges: Array<{ cursor: string; node: Row }>;
    nodes: Array<{ id: string }>;
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  }

  /** A wallet with 25 rows of three types, and its rows in the order they were made. */
  async function walletWithHistory() {
    const org = await createOrganization(app);
    const wallet = await createWorkspace(app, org.ownerToken, 'W');
    const other = await createWorkspace(app, org.ownerToken, 'V');
    await fund(app, other.walletId, '100');
    const made: Array<{ id: string; type: string }> = [];
    for (let i = 0; i < 25; i += 1) {
      if (i % 3 === 0) {
        const { walletAdjust } = await app.data(
          ADJUST,
          { input: { walletId: wallet.walletId, amount: `${i + 1}`, description: `credit ${i}`, idempotencyKey: `adj-${i}` } },
          ADMIN_TOKEN,
        );
        expectNoUserErrors(walletAdjust);
        made.push({ id: walletAdjust.transaction.id, type: 'MANUAL' });
      } else {
        const out = i % 3 === 1;
        const { walletTransfer } = await app.data(
          TRANSFER,
          {
            input: {
              fromWalletId: out ? wallet.walletId : other.walletId,
              toWalletId: out ? other.walletId : wallet.walletId,
              amount: '0.5',
              idempotencyKey: `tr-${i}`,
            },
          },
          org.ownerToken,
        );
        expectNoUserErrors(walletTransfer);
        made.push(out ? { id: walletTransfer.transferOut.id, type: 'TRANSFER_OUT' } : { id: walletTransfer.transferIn.id, type: 'TRANSFER_IN' });
      }
    }
    return { org, walletId: wallet.walletId, otherWalletId: other.walletId, newestFirst: made.reverse() };
  }

  async function page(token: string, variables: Record<string, unknown>): Promise<PageShape> {
    const { node } = await app.data(PAGE, variables, token);
    const connection = node.transactions as PageShape;
    // nodes, edges and the page's cursors always agree.
    expect(connection.nodes).toEqual(connection.edges.map((edge) => ({ id: edge.node.id })));
    expect(connection.pageInfo.startCursor).toBe(connection.edges[0]?.cursor ?? null);
    expect(connection.pageInfo.endCursor).toBe(connection.edges.at(-1)?.cursor ?? null);
    return connection;
  }

  async function walkForward(token: string, id: string, first: number, filter?: object): Promise<PageShape[]> {
    const pages: PageShape[] = [];
    let after: string | null = null;
    for (let guard = 0; guard < 50; guard += 1) {
      const current: PageShape = await page(token, { id, first, after, filter });
      pages.push(current);
      if (!current.pageInfo.hasNextPage) return pages;
      after = current.pageInfo.endCursor;
    }
    throw new Error('paging forward did not end');
  }

  async function walkBackward(token: string, id: string, last: number, filter?: object): Promise<PageShape[]> {
    const pages: PageShape[] = [];
    let before: string | null = null;
    for (let guard = 0; guard < 50; guard += 1) {
      const current: PageShape = await page(token, { id, last, before, filter });
      pages.push(current);
      if (!current.pageInfo.hasPreviousPage) return pages;
      before = current.pageInfo.startCursor;
    }
    throw new Error('paging backward did not end');
  }

  const ids = (pages: PageShape[]) => pages.flatMap((p) => p.edges.map((edge) => edge.node.id));

  it('walks every row newest first with first/after, and back with last/before, with no duplicates or gaps', async () => {
    const { org, walletId, newestFirst } = await walletWithHistory();
    const expected = newestFirst.map((row) => row.id);
    expect(expected).toHaveLength(25);

    const forward = await walkForward(org.ownerToken, walletId, 10);
    expect(forward.map((p) => p.edges.length)).toEqual([10, 10, 5]);
    expect(ids(forward)).toEqual(expected);
    expect(forward.map((p) => p.pageInfo.hasNextPage)).toEqual([true, true, false]);
    expect(forward.map((p) => p.pageInfo.hasPreviousPage)).toEqual([false, true, true]);
    const rows = forward.flatMap((p) => p.edges.map((edge) => edge.node));
    expect(rows.map((row) => row.type)).toEqual(newestFirst.map((row) => row.type));
    for (let i = 1; i < rows.length; i += 1) expect(Date.parse(rows[i - 1].createdAt)).toBeGreaterThanOrEqual(Date.parse(rows[i].createdAt));

    const byEight = await walkForward(org.ownerToken, walletId, 8);
    expect(byEight.map((p) => p.edges.length)).toEqual([8, 8, 8, 1]);
    expect(ids(byEight)).toEqual(expected);

    const backward = await walkBackward(org.ownerToken, walletId, 10);
    expect(backward.map((p) => p.edges.map((edge) => edge.node.id))).toEqual([expected.slice(15), expected.slice(5, 15), expected.slice(0, 5)]);
    expect(backward.map((p) => p.pageInfo.hasPreviousPage)).toEqual([true, true, false]);
    expect(backward.map((p) => p.pageInfo.hasNextPage)).toEqual([false, true, true]);

    // A cursor from the middle, in both directions.
    const middle = forward[0].edges[9].cursor;
    expect(ids([await page(org.ownerToken, { id: walletId, first: 3, after: middle })])).toEqual(expected.slice(10, 13));
    expect(ids([await page(org.ownerToken, { id: walletId, last: 3, before: middle })])).toEqual(expected.slice(6, 9));
    // Exactly at the end: an empty page with nothing after it.
    const end = await page(org.ownerToken, { id: walletId, first: 10, after: forward[2].pageInfo.endCursor });
    expect(end.edges).toEqual([]);
    expect(end.pageInfo).toMatchObject({ hasNextPage: false, startCursor: null, endCursor: null });
  });

  it('pages without duplicates or gaps through rows that share a timestamp', async () => {
    // Through the API, rows of one wallet are written under its lock and a millisecond apart;
    // ties on created_at are written here directly (balances kept equal to the ledger's sum).
    const org = await createOrganization(app);
    const { walletId } = await createWorkspace(app, org.ownerToken, 'Ties');
    const made: string[] = [];
    const em = app.orm.em.fork();
    await em.transactional(async (tx) => {
      const base = Date.now() - 60_000;
      for (let i = 0; i < 30; i += 1) {
        const id = newId('transaction');
        made.push(id);
        await tx.execute(
          `insert into transactions (id, wallet_id, organization_id, type, amount, balance_after, description, actor, created_at)
           values (?, ?, ?, 'MANUAL', 1, ?, 'tie', 'admin', ?)`,
          [id, walletId, org.organizationId, i + 1, new Date(base + Math.floor(i / 10))],
        );
      }
      await tx.execute('update wallets set balance = 30 where id = ?', [walletId]);
    });

    for (const size of [1, 4, 7, 10]) {
      const pages = await walkForward(org.ownerToken, walletId, size);
      const forward = ids(pages);
      expect(new Set(forward).size).toBe(30);
      expect([...forward].sort()).toEqual([...made].sort());
      const times = pages.flatMap((p) => p.edges.map((edge) => Date.parse(edge.node.createdAt)));
      expect(times).toEqual([...times].sort((x, y) => y - x));
      const backward = (await walkBackward(org.ownerToken, walletId, size)).reverse().flatMap((p) => p.edges.map((edge) => edge.node.id));
      expect(backward).toEqual(forward);
    }
  });

  it('filters by type and by a [from, to) range, and pages within the filter', async () => {
    const { org, walletId, newestFirst } = await walletWithHistory();
    const [all] = await walkForward(org.ownerToken, walletId, 25);
    const rows = all.edges.map((edge) => edge.node);
    expect(rows.map((row) => row.id)).toEqual(newestFirst.map((row) => row.id));

    const transfersIn = await walkForward(org.ownerToken, walletId, 3, { types: ['TRANSFER_IN'] });
    expect(ids(transfersIn)).toEqual(newestFirst.filter((row) => row.type === 'TRANSFER_IN').map((row) => row.id));
    expect(ids(transfersIn)).toHaveLength(8);
    expect(transfersIn.flatMap((p) => p.edges.map((edge) => edge.node.type))).toEqual(Array(8).fill('TRANSFER_IN'));
    expect(transfersIn.map((p) => p.edges.length)).toEqual([3, 3, 2]);

    const twoTypes = await walkForward(org.ownerToken, walletId, 100, { types: ['MANUAL', 'TRANSFER_OUT'] });
    expect(ids(twoTypes)).toEqual(newestFirst.filter((row) => row.type !== 'TRANSFER_IN').map((row) => row.id));
    const backIn = await walkBackward(org.ownerToken, walletId, 5, { types: ['TRANSFER_IN'] });
    expect(backIn.reverse().flatMap((p) => p.edges.map((edge) => edge.node.id))).toEqual(ids(transfersIn));

    // [from, to) between two rows' own timestamps: `from` included, `to` excluded.
    const from = rows[18].createdAt;
    const to = rows[6].createdAt;
    const inRange = rows.filter((row) => Date.parse(row.createdAt) >= Date.parse(from) && Date.parse(row.createdAt) < Date.parse(to));
    expect(inRange.map((row) => row.id)).toContain(rows[18].id);
    expect(inRange.map((row) => row.id)).not.toContain(rows[6].id);
    expect(inRange.length).toBeGreaterThanOrEqual(2);
    const ranged = await walkForward(org.ownerToken, walletId, 4, { from, to });
    expect(ids(ranged)).toEqual(inRange.map((row) => row.id));

    const sinceFrom = await walkForward(org.ownerToken, walletId, 100, { from });
    expect(ids(sinceFrom)).toEqual(rows.filter((row) => Date.parse(row.createdAt) >= Date.parse(from)).map((row) => row.id));
    const untilTo = await walkForward(org.ownerToken, walletId, 100, { to });
    expect(ids(untilTo)).toEqual(rows.filter((row) => Date.parse(row.createdAt) < Date.parse(to)).map((row) => row.id));

    const both = await walkForward(org.ownerToken, walletId, 100, { from, to, types: ['TRANSFER_OUT'] });
    expect(ids(both)).toEqual(inRange.filter((row) => row.type === 'TRANSFER_OUT').map((row) => row.id));
    const future = await page(org.ownerToken, { id: walletId, first: 10, filter: { from: new Date(Date.now() + 3_600_000).toISOString() } });
    expect(future.edges).toEqual([]);
  });

  it('refuses bad cursors, page sizes and ranges with BAD_USER_INPUT', async () => {
    const org = await createOrganization(app);
    const { walletId } = await createWorkspace(app, org.ownerToken, 'W');
    await fund(app, walletId, '1');
    const now = new Date().toISOString();
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ first: 10, after: 'not-a-cursor' }, /after/],
      [{ last: 10, before: 'not-a-cursor' }, /before/],
      [{ first: 10, after: Buffer.from('123:').toString('base64url') }, /after/],
      [{ first: 10, after: Buffer.from("1:x' or '1'='1").toString('base64url') }, /after/],
      [{ first: 1000 }, /first/],
      [{ first: 101 }, /first/],
      [{ first: -1 }, /first/],
      [{ last: 1000 }, /last/],
      [{ first: 5, last: 5 }, /first or last/],
      [{ first: 5, filter: { from: now, to: now } }, /from/],
    ];
    for (const [variables, message] of cases) {
      const result = await app.gql(PAGE, { id: walletId, ...variables }, org.ownerToken);
      expect({ variables, codes: codes(result) }).toEqual({ variables, codes: ['BAD_USER_INPUT'] });
      expect(result.errors![0].message).toMatch(message);
    }
    // The largest page is allowed.
    expect((await page(org.ownerToken, { id: walletId, first: 100 })).edges).toHaveLength(1);
  });
});

describe('the acceptance query', () => {
  it('shows a freshly funded organization with its workspaces, balances and latest transactions', async () => {
    const name = unique('Fresh');
    const org = await createOrganization(app, name);
    const main = await createWorkspace(app, org.ownerToken, 'Main');
    const research = await createWorkspace(app, org.ownerToken, 'Research');
    await fund(app, main.walletId, '100');
    const { walletTransfer } = await app.data(
      TRANSFER,
      { input: { fromWalletId: main.walletId, toWalletId: research.walletId, amount: '12.5', idempotencyKey: 'seed' } },
      org.ownerToken,
    );
    expectNoUserErrors(walletTransfer);
    await createWorkspace(app, org.ownerToken, 'Empty');

    const result = await app.gql(
      `{ viewer { organization { name workspaces { nodes { name wallet { balance transactions(first: 10) { edges { node { type amount } } } } } } } } }`,
      {},
      org.ownerToken,
    );
    expect(result).toEqual({
      status: 200,
      data: {
        viewer: {
          organization: {
            name,
            workspaces: {
              nodes: [
                {
                  name: 'Main',
                  wallet: {
                    balance: '87.5',
                    transactions: { edges: [{ node: { type: 'TRANSFER_OUT', amount: '-12.5' } }, { node: { type: 'MANUAL', amount: '100' } }] },
                  },
                },
                { name: 'Research', wallet: { balance: '12.5', transactions: { edges: [{ node: { type: 'TRANSFER_IN', amount: '12.5' } }] } } },
                { name: 'Empty', wallet: { balance: '0', transactions: { edges: [] } } },
              ],
            },
          },
        },
      },
    });
  });
});
