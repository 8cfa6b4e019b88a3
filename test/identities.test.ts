import { Client } from 'pg';
import { newId } from '../src/ids';
import { Period } from '../src/limits/periods';
import { parseMoney as usd } from '../src/money';
import { ADMIN_TOKEN, useTestApp } from './support/app';
import { codes, createMemberWithToken, createWorkspace, expectNoUserErrors, organizationWithWorkspace } from './support/fixtures';
import { setCounter, type TestClock } from './support/usage';

const NOW = new Date('2026-03-18T12:00:00.000Z');
const clock: TestClock = { now: NOW };
const app = useTestApp({ clock: () => clock.now });

beforeEach(() => {
  clock.now = NOW;
});

const UPSERT = `mutation ($input: IdentityUpsertInput!) {
  identityUpsert(input: $input) {
    identity { id externalId budget { amount period } createdAt workspace { id } }
    userErrors { field code message }
  }
}`;
const BUDGET = `query ($id: ID!) {
  node(id: $id) { ... on Identity { usage { daily weekly monthly yearly } budget { amount period remaining resetAt } } }
}`;
const IDENTITIES_PAGE = `query ($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  node(id: $id) {
    ... on Workspace {
      identities(first: $first, after: $after, last: $last, before: $before) {
        edges { cursor node { id externalId } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }
  }
}`;

async function upsert(token: string, input: Record<string, unknown>) {
  const { identityUpsert } = await app.data(UPSERT, { input }, token);
  return identityUpsert;
}

async function identityRows(workspaceId: string) {
  return app.orm.em
    .fork()
    .execute('select id, external_id, budget, budget_period from identities where workspace_id = ? order by created_at, id', [workspaceId]);
}

describe('identityUpsert', () => {
  it('creates an identity once and then changes only its budget', async () => {
    const org = await organizationWithWorkspace(app);
    const created = await upsert(org.ownerToken, { workspaceId: org.workspaceId, externalId: 'user-42' });
    expect(created).toEqual({
      identity: {
        id: expect.stringMatching(/^idn_[0-9A-Za-z]{22}$/),
        externalId: 'user-42',
        budget: null,
        createdAt: expect.any(String),
        workspace: { id: org.workspaceId },
      },
      userErrors: [],
    });
    const withBudget = await upsert(org.ownerToken, { workspaceId: org.workspaceId, externalId: 'user-42', budget: { amount: '5.50', period: 'WEEKLY' } });
    expect(withBudget).toEqual({ identity: { ...created.identity, budget: { amount: '5.5', period: 'WEEKLY' } }, userErrors: [] });

    // Left out: the budget stays. Null: it goes.
    expect(await upsert(org.ownerToken, { workspaceId: org.workspaceId, externalId: 'user-42' })).toEqual(withBudget);
    const cleared = await upsert(org.ownerToken, { workspaceId: org.workspaceId, externalId: 'user-42', budget: null });
    expect(cleared).toEqual(created);
    expect(await identityRows(org.workspaceId)).toEqual([{ id: created.identity.id, external_id: 'user-42', budget: null, budget_period: null }]);

    // A new identity may come with its budget.
    const fresh = await upsert(org.ownerToken, { workspaceId: org.workspaceId, externalId: 'user-43', budget: { amount: '0', period: 'DAILY' } });
    expect(fresh.identity).toMatchObject({ externalId: 'user-43', budget: { amount: '0', period: 'DAILY' } });
  });

  it('takes the external id verbatim, one identity per workspace and id', async () => {
    const org = await organizationWithWorkspace(app);
    const side = await createWorkspace(app, org.ownerToken, 'Side');
    const ids = ['a', ' a', 'A', 'a ', 'ü-ñ 👩‍💻', 'x'.repeat(255)];
    const made = [];
    for (const externalId of ids) made.push((await upsert(org.ownerToken, { workspaceId: org.workspaceId, externalId })).identity);
    expect(made.map((identity) => identity.externalId)).toEqual(ids);
    expect(new Set(made.map((identity) => identity.id)).size).toBe(ids.length);
    // The same external id in another workspace is another identity.
    const elsewhere = await upsert(org.ownerToken, { workspaceId: side.workspaceId, externalId: 'a' });
    expect(elsewhere.identity.id).not.toBe(made[0].id);
  });

  it('refuses invalid external ids and budgets with INVALID on the field, and changes nothing', async () => {
    const org = await organizationWithWorkspace(app);
    await upsert(org.ownerToken, { workspaceId: org.workspaceId, externalId: 'kept', budget: { amount: '3', period: 'MONTHLY' } });
    const before = await identityRows(org.workspaceId);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ externalId: '' }, 'externalId'],
      [{ externalId: 'x'.repeat(256) }, 'externalId'],
      [{ externalId: 'kept', budget: { amount: '-1', period: 'MONTHLY' } }, 'budget.amount'],
      [{ externalId: 'new', budget: { amount: '-0.5', period: 'DAILY' } }, 'budget.amount'],
    ];
    for (const [input, field] of cases) {
      const payload = await upsert(org.ownerToken, { workspaceId: org.workspaceId, ...input });
      expect({ input, payload }).toEqual({
        input,
        payload: { identity: null, userErrors: [{ field: ['input', ...field.split('.')], code: 'INVALID', message: expect.stringContaining(field) }] },
      });
    }
    expect(await identityRows(org.workspaceId)).toEqual(before);
    const badPeriod = await app.gql(UPSERT, { input: { workspaceId: org.workspaceId, externalId: 'kept', budget: { amount: '1', period: 'HOURLY' } } }, org.ownerToken);
    expect(codes(badPeriod)).toEqual(['BAD_USER_INPUT']);
    // A budget is a whole: an amount without its period does not fit the input type.
    const noPeriod = await app.gql(UPSERT, { input: { workspaceId: org.workspaceId, externalId: 'kept', budget: { amount: '5' } } }, org.ownerToken);
    expect(codes(noPeriod)).toEqual(['BAD_USER_INPUT']);
    expect(await identityRows(org.workspaceId)).toEqual(before);
  });

  it('lets concurrent upserts of one external id all succeed, leaving one identity', async () => {
    const org = await organizationWithWorkspace(app);
    const racers = 8;
    // A transaction of our own inserts the external id first and stays open, so that every
    // upsert reaches the unique index and waits there; when it rolls back they all go at once.
    const blocker = new Client({ connectionString: process.env.TOLLGATE_TEST_DATABASE_URL });
    await blocker.connect();
    try {
      await blocker.query('begin');
      await blocker.query(`insert into identities (id, organization_id, workspace_id, external_id) values ($1, $2, $3, 'racer')`, [
        newId('identity'),
        org.organizationId,
        org.workspaceId,
      ]);
      const pending = Promise.all(
        Array.from({ length: racers }, (_, i) =>
          app.gql(UPSERT, { input: { workspaceId: org.workspaceId, externalId: 'racer', budget: { amount: String(i + 1), period: 'DAILY' } } }, org.ownerToken),
        ),
      );
      for (let waited = 0; ; waited += 1) {
        // Inside a transaction pg_stat_activity is a snapshot unless it is cleared first.
        await blocker.query('select pg_stat_clear_snapshot()');
        const { rows } = await blocker.query(
          `select count(*)::int as waiting from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
        );
        if (rows[0].waiting >= racers) break;
        if (waited > 500) throw new Error(`only ${rows[0].waiting} of ${racers} upserts reached the unique index`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await blocker.query('rollback');
      const results = await pending;
      for (const result of results) {
        expect(result.errors).toBeUndefined();
        expect(result.data.identityUpsert.userErrors).toEqual([]);
      }
      const ids = new Set(results.map((result) => result.data.identityUpsert.identity.id));
      expect(ids.size).toBe(1);
      const rows = await identityRows(org.workspaceId);
      expect(rows).toEqual([expect.objectContaining({ id: [...ids][0], external_id: 'racer', budget_period: 'DAILY' })]);
      // The last writer wins, with one of the budgets that were sent.
      expect(Array.from({ length: racers }, (_, i) => usd(String(i + 1)).toString())).toContain(rows[0].budget);
    } finally {
      await blocker.end();
    }
  });

  it("answers NOT_FOUND for another organization's workspace", async () => {
    const org = await organizationWithWorkspace(app);
    const other = await organizationWithWorkspace(app);
    for (const workspaceId of [other.workspaceId, newId('workspace')]) {
      expect(await upsert(org.ownerToken, { workspaceId, externalId: 'user-1' })).toEqual({
        identity: null,
        userErrors: [{ field: ['input', 'workspaceId'], code: 'NOT_FOUND', message: 'No such workspace' }],
      });
    }
    expect(await identityRows(other.workspaceId)).toEqual([]);
  });

  it.each(['VIEWER', 'MEMBER'])('answers FORBIDDEN to a %s, who may still read identities', async (role) => {
    const org = await organizationWithWorkspace(app);
    const { identity } = await upsert(org.ownerToken, { workspaceId: org.workspaceId, externalId: 'user-1' });
    const reader = await createMemberWithToken(app, org.ownerToken, role);
    const result = await app.gql(UPSERT, { input: { workspaceId: org.workspaceId, externalId: 'user-2' } }, reader.token);
    expect({ codes: codes(result), status: result.status, data: result.data }).toEqual({ codes: ['FORBIDDEN'], status: 403, data: null });
    expect(await identityRows(org.workspaceId)).toHaveLength(1);
    const page = await app.data(IDENTITIES_PAGE, { id: org.workspaceId }, reader.token);
    expect(page.node.identities.edges.map((edge: { node: { id: string } }) => edge.node.id)).toEqual([identity.id]);
    expect(codes(await app.gql(UPSERT, { input: { workspaceId: org.workspaceId, externalId: 'user-2' } }, ADMIN_TOKEN))).toEqual(['FORBIDDEN']);
  });
});

describe('reading identities', () => {
  it('pages through a workspace identities newest first and finds one by external id', async () => {
    const org = await organizationWithWorkspace(app);
    const made: string[] = [];
    for (let i = 0; i < 5; i += 1) made.push((await upsert(org.ownerToken, { workspaceId: org.workspaceId, externalId: `user-${i}` })).identity.id);
    const ids: string[] = [];
    let after: string | null = null;
    for (;;) {
      const { node }: { node: any } = await app.data(IDENTITIES_PAGE, { id: org.workspaceId, first: 2, after }, org.ownerToken);
      ids.push(...node.identities.edges.map((edge: { node: { id: string } }) => edge.node.id));
      if (!node.identities.pageInfo.hasNextPage) break;
      after = node.identities.pageInfo.endCursor;
    }
    expect(ids).toEqual([...made].reverse());

    const { node } = await app.data(
      `query ($id: ID!) { node(id: $id) { ... on Workspace { a: identity(externalId: "user-3") { id } b: identity(externalId: "user-9") { id } } } }`,
      { id: org.workspaceId },
      org.ownerToken,
    );
    expect(node).toEqual({ a: { id: made[3] }, b: null });
  });

  it("shows another organization's identities as nothing", async () => {
    const org = await organizationWithWorkspace(app);
    const other = await organizationWithWorkspace(app);
    const { identity } = await upsert(other.ownerToken, { workspaceId: other.workspaceId, externalId: 'theirs' });
    expect((await app.data(`query ($id: ID!) { node(id: $id) { id } }`, { id: identity.id }, org.ownerToken)).node).toBeNull();
    expect((await app.data(`query ($id: ID!) { node(id: $id) { __typename } }`, { id: identity.id }, other.ownerToken)).node).toEqual({
      __typename: 'Identity',
    });
  });

  it('computes usage and what the budget leaves from the counters of the current periods', async () => {
    const org = await organizationWithWorkspace(app);
    const { identity } = await upsert(org.ownerToken, { workspaceId: org.workspaceId, externalId: 'spender', budget: { amount: '20', period: 'YEARLY' } });
    const read = async () => (await app.data(BUDGET, { id: identity.id }, org.ownerToken)).node;
    expect(await read()).toEqual({
      usage: { daily: '0', weekly: '0', monthly: '0', yearly: '0' },
      budget: { amount: '20', period: 'YEARLY', remaining: '20', resetAt: '2027-01-01T00:00:00.000Z' },
    });

    await setCounter(app, identity.id, Period.DAILY, NOW, { cost: usd('1') });
    await setCounter(app, identity.id, Period.WEEKLY, NOW, { cost: usd('2') });
    await setCounter(app, identity.id, Period.MONTHLY, NOW, { cost: usd('3'), heldCost: usd('0.5') });
    await setCounter(app, identity.id, Period.YEARLY, NOW, { cost: usd('12'), heldCost: usd('0.75') });
    await setCounter(app, identity.id, Period.YEARLY, new Date('2025-06-01T00:00:00Z'), { cost: usd('500') });
    expect(await read()).toEqual({
      usage: { daily: '1', weekly: '2', monthly: '3', yearly: '12' },
      budget: { amount: '20', period: 'YEARLY', remaining: '7.25', resetAt: '2027-01-01T00:00:00.000Z' },
    });

    await upsert(org.ownerToken, { workspaceId: org.workspaceId, externalId: 'spender', budget: { amount: '3', period: 'MONTHLY' } });
    expect(await read()).toMatchObject({ budget: { remaining: '0', resetAt: '2026-04-01T00:00:00.000Z' } });

    await upsert(org.ownerToken, { workspaceId: org.workspaceId, externalId: 'spender', budget: null });
    expect(await read()).toMatchObject({ budget: null });

    // Next year the yearly counter above is last year's.
    clock.now = new Date('2027-01-01T00:00:00.000Z');
    expect((await read()).usage).toEqual({ daily: '0', weekly: '0', monthly: '0', yearly: '0' });
  });

  it('answers the identity from its upsert payload together with its usage', async () => {
    const org = await organizationWithWorkspace(app);
    const first = await upsert(org.ownerToken, { workspaceId: org.workspaceId, externalId: 'payload' });
    await setCounter(app, first.identity.id, Period.DAILY, NOW, { cost: usd('0.5') });
    const { identityUpsert } = await app.data(
      `mutation ($input: IdentityUpsertInput!) {
         identityUpsert(input: $input) { identity { id usage { daily } budget { remaining resetAt } } userErrors { code } }
       }`,
      { input: { workspaceId: org.workspaceId, externalId: 'payload', budget: { amount: '2', period: 'DAILY' } } },
      org.ownerToken,
    );
    expectNoUserErrors(identityUpsert);
    expect(identityUpsert.identity).toEqual({
      id: first.identity.id,
      usage: { daily: '0.5' },
      budget: { remaining: '1.5', resetAt: '2026-03-19T00:00:00.000Z' },
    });
  });
});
