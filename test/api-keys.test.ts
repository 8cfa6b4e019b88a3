import { createHash } from 'node:crypto';
import { newId } from '../src/ids';
import { KeyLimitPeriod, Period } from '../src/limits/periods';
import { parseMoney as usd } from '../src/money';
import { ADMIN_TOKEN, GATEWAY_TOKEN, useTestApp } from './support/app';
import { codes, createMemberWithToken, createWorkspace, expectNoUserErrors, organizationWithWorkspace, PROJECT_CREATE, unique } from './support/fixtures';
import { setCounter, type TestClock } from './support/usage';

// A Wednesday: its week began on Monday 2026-03-16.
const WEDNESDAY_NOON = new Date('2026-03-18T12:00:00.000Z');
const clock: TestClock = { now: WEDNESDAY_NOON };
const app = useTestApp({ clock: () => clock.now });

beforeEach(() => {
  clock.now = WEDNESDAY_NOON;
});

const KEY_FIELDS = `id name prefix budget { amount period } tokenBudget { amount period } requestsPerMinute expiresAt revokedAt createdAt
  workspace { id } project { id }`;

/** A MONTHLY budget of `amount`, as an input gives it and as a key answers it. */
const monthly = (amount: string | number) => ({ amount, period: 'MONTHLY' });

const CREATE = `mutation ($input: ApiKeyCreateInput!) {
  apiKeyCreate(input: $input) { apiKey { ${KEY_FIELDS} } secret userErrors { field code message } }
}`;
const UPDATE = `mutation ($input: ApiKeyUpdateInput!) {
  apiKeyUpdate(input: $input) { apiKey { ${KEY_FIELDS} } userErrors { field code message } }
}`;
const REVOKE = `mutation ($input: ApiKeyRevokeInput!) {
  apiKeyRevoke(input: $input) { apiKey { id revokedAt } userErrors { field code message } }
}`;
const LIMITS = `query ($id: ID!) {
  node(id: $id) {
    ... on ApiKey { usage { daily weekly monthly yearly } budget { amount period remaining resetAt } tokenBudget { amount period remaining resetAt } }
  }
}`;
const KEYS_PAGE = `query ($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  node(id: $id) {
    ... on Workspace {
      apiKeys(first: $first, after: $after, last: $last, before: $before) {
        edges { cursor node { id name } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }
  }
}`;

async function createProject(token: string, workspaceId: string, name = unique('Project')): Promise<string> {
  const { projectCreate } = await app.data(PROJECT_CREATE, { input: { workspaceId, name } }, token);
  expectNoUserErrors(projectCreate);
  return projectCreate.project.id;
}

async function createKey(token: string, input: Record<string, unknown>) {
  const { apiKeyCreate } = await app.data(CREATE, { input: { name: 'Production', ...input } }, token);
  expectNoUserErrors(apiKeyCreate);
  return apiKeyCreate as { apiKey: Record<string, any>; secret: string };
}

async function keyRows(workspaceId: string) {
  return app.orm.em.fork().execute<Array<Record<string, any>>>('select * from api_keys where workspace_id = ? order by created_at, id', [workspaceId]);
}

describe('apiKeyCreate', () => {
  it('returns the key and its secret once; only the SHA-256 of the secret and a short prefix are stored', async () => {
    const org = await organizationWithWorkspace(app);
    const projectId = await createProject(org.ownerToken, org.workspaceId);
    const { apiKeyCreate } = await app.data(
      CREATE,
      {
        input: {
          workspaceId: org.workspaceId,
          name: '  Production  ',
          projectId,
          budget: { amount: '25.50', period: 'DAILY' },
          tokenBudget: { amount: '5000000000', period: 'DAILY' },
          requestsPerMinute: 600,
          expiresAt: '2027-01-01T00:00:00.000Z',
        },
      },
      org.ownerToken,
    );
    expect(apiKeyCreate).toEqual({
      apiKey: {
        id: expect.stringMatching(/^key_[0-9A-Za-z]{22}$/),
        name: 'Production',
        prefix: apiKeyCreate.secret.slice(0, 10),
        budget: { amount: '25.5', period: 'DAILY' },
        tokenBudget: { amount: '5000000000', period: 'DAILY' },
        requestsPerMinute: 600,
        expiresAt: '2027-01-01T00:00:00.000Z',
        revokedAt: null,
        createdAt: expect.any(String),
        workspace: { id: org.workspaceId },
        project: { id: projectId },
      },
      secret: expect.stringMatching(/^tg_[0-9A-Za-z]{43}$/),
      userErrors: [],
    });
    const { secret, apiKey } = apiKeyCreate;

    const [row] = await keyRows(org.workspaceId);
    expect(row).toMatchObject({
      id: apiKey.id,
      organization_id: org.organizationId,
      workspace_id: org.workspaceId,
      wallet_id: org.walletId,
      project_id: projectId,
      secret_hash: createHash('sha256').update(secret).digest('hex'),
      prefix: secret.slice(0, 10),
      cost_limit: '25500000000',
      token_limit: '5000000000',
    });
    // The secret itself is nowhere in the row, and no field of the API gives it back.
    expect(JSON.stringify(row)).not.toContain(secret.slice(10));
    const { __type } = await app.data(`{ __type(name: "ApiKey") { fields { name } } }`, {}, org.ownerToken);
    expect(__type.fields.map((field: { name: string }) => field.name)).not.toEqual(expect.arrayContaining(['secret']));
    expect(__type.fields.map((field: { name: string }) => field.name).filter((name: string) => /secret|hash/i.test(name))).toEqual([]);
    const read = await app.data(`query ($id: ID!) { node(id: $id) { ... on ApiKey { id prefix } } }`, { id: apiKey.id }, org.ownerToken);
    expect(read.node).toEqual({ id: apiKey.id, prefix: secret.slice(0, 10) });
  });

  it('makes a different secret every time, with no budgets by default', async () => {
    const org = await organizationWithWorkspace(app);
    const first = await createKey(org.ownerToken, { workspaceId: org.workspaceId });
    const second = await createKey(org.ownerToken, { workspaceId: org.workspaceId, name: 'Production' });
    expect(first.secret).not.toBe(second.secret);
    expect(first.apiKey).toMatchObject({
      budget: null,
      tokenBudget: null,
      requestsPerMinute: null,
      expiresAt: null,
      revokedAt: null,
      project: null,
    });
    // Names need not be unique: keys are told apart by their prefix.
    expect((await keyRows(org.workspaceId)).map((row) => row.name)).toEqual(['Production', 'Production']);
  });

  it('accepts zero limits and the largest token limit', async () => {
    const org = await organizationWithWorkspace(app);
    const { apiKey } = await createKey(org.ownerToken, {
      workspaceId: org.workspaceId,
      budget: monthly('0'),
      tokenBudget: monthly('9223372036854775807'),
      requestsPerMinute: 1_000_000,
    });
    expect(apiKey).toMatchObject({ budget: monthly('0'), tokenBudget: monthly('9223372036854775807'), requestsPerMinute: 1_000_000 });
    const small = await createKey(org.ownerToken, { workspaceId: org.workspaceId, tokenBudget: monthly(0), requestsPerMinute: 1 });
    expect(small.apiKey).toMatchObject({ tokenBudget: monthly('0'), requestsPerMinute: 1 });
  });

  it('refuses invalid limits, names and expiries with INVALID on the field, and creates nothing', async () => {
    const org = await organizationWithWorkspace(app);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: '' }, 'name'],
      [{ name: '   ' }, 'name'],
      [{ name: 'x'.repeat(201) }, 'name'],
      [{ budget: monthly('-0.000000001') }, 'budget.amount'],
      [{ budget: monthly('-5') }, 'budget.amount'],
      [{ budget: { amount: '5', period: 'YEARLY' } }, 'budget.period'],
      [{ budget: { amount: '5', period: 'DAILY' }, tokenBudget: { amount: '5', period: 'WEEKLY' } }, 'tokenBudget.period'],
      [{ requestsPerMinute: 0 }, 'requestsPerMinute'],
      [{ requestsPerMinute: -10 }, 'requestsPerMinute'],
      [{ requestsPerMinute: 1_000_001 }, 'requestsPerMinute'],
      [{ expiresAt: '2026-03-18T11:59:59.999Z' }, 'expiresAt'],
      [{ expiresAt: WEDNESDAY_NOON.toISOString() }, 'expiresAt'],
      [{ expiresAt: '2020-01-01T00:00:00Z' }, 'expiresAt'],
    ];
    for (const [input, field] of cases) {
      const { apiKeyCreate } = await app.data(CREATE, { input: { workspaceId: org.workspaceId, name: 'Key', ...input } }, org.ownerToken);
      expect({ input, payload: apiKeyCreate }).toEqual({
        input,
        payload: {
          apiKey: null,
          secret: null,
          userErrors: [{ field: ['input', ...field.split('.')], code: 'INVALID', message: expect.stringMatching(new RegExp(field.split('.')[0].replace(/([A-Z])/g, ' ?$1'), 'i')) }],
        },
      });
    }
    expect(await keyRows(org.workspaceId)).toEqual([]);
  });

  it('refuses malformed token counts, amounts and ids as BAD_USER_INPUT', async () => {
    const org = await organizationWithWorkspace(app);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ tokenBudget: monthly(-1) }, /cannot be negative/],
      [{ tokenBudget: monthly('-1') }, /cannot be negative/],
      [{ tokenBudget: monthly(1.5) }, /whole number/],
      [{ tokenBudget: monthly('9223372036854775808') }, /at most 9223372036854775807/],
      [{ budget: monthly(5) }, /Money must be a decimal string/],
      [{ budget: monthly('0.0000000001') }, /at most 9 fractional digits/],
      [{ budget: { amount: '5' } }, /Field "period" of required type "BudgetPeriod!" was not provided/],
      [{ expiresAt: 'tomorrow' }, /DateTime/],
      [{ budget: { amount: '5', period: 'HOURLY' } }, /BudgetPeriod/],
      [{ projectId: 'prj_nope' }, /input.projectId/],
      [{ workspaceId: org.walletId }, /input.workspaceId/],
    ];
    for (const [input, message] of cases) {
      const result = await app.gql(CREATE, { input: { workspaceId: org.workspaceId, name: 'Key', ...input } }, org.ownerToken);
      expect({ input, codes: codes(result) }).toEqual({ input, codes: ['BAD_USER_INPUT'] });
      expect(result.errors![0].message).toMatch(message);
    }
    expect(await keyRows(org.workspaceId)).toEqual([]);
  });

  it("answers NOT_FOUND for another organization's workspace or project, and for a project of another workspace", async () => {
    const org = await organizationWithWorkspace(app);
    const side = await createWorkspace(app, org.ownerToken, 'Side');
    const sideProject = await createProject(org.ownerToken, side.workspaceId);
    const other = await organizationWithWorkspace(app);
    const otherProject = await createProject(other.ownerToken, other.workspaceId);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ workspaceId: other.workspaceId }, 'workspaceId'],
      [{ workspaceId: newId('workspace') }, 'workspaceId'],
      [{ projectId: otherProject }, 'projectId'],
      [{ projectId: sideProject }, 'projectId'],
      [{ projectId: newId('project') }, 'projectId'],
    ];
    for (const [input, field] of cases) {
      const { apiKeyCreate } = await app.data(CREATE, { input: { workspaceId: org.workspaceId, name: 'Key', ...input } }, org.ownerToken);
      expect({ input, payload: apiKeyCreate }).toEqual({
        input,
        payload: { apiKey: null, secret: null, userErrors: [{ field: ['input', field], code: 'NOT_FOUND', message: expect.any(String) }] },
      });
    }
    expect(await keyRows(org.workspaceId)).toEqual([]);
    expect(await keyRows(other.workspaceId)).toEqual([]);
  });
});

describe('apiKeyUpdate', () => {
  it('changes the fields given and keeps the ones left out', async () => {
    const org = await organizationWithWorkspace(app);
    const projectId = await createProject(org.ownerToken, org.workspaceId);
    const { apiKey } = await createKey(org.ownerToken, {
      workspaceId: org.workspaceId,
      budget: monthly('10'),
      tokenBudget: monthly(1000),
      requestsPerMinute: 60,
      expiresAt: '2027-01-01T00:00:00.000Z',
    });
    const { apiKeyUpdate } = await app.data(
      UPDATE,
      { input: { apiKeyId: apiKey.id, name: 'Renamed', projectId, budget: { amount: '12.25', period: 'WEEKLY' }, tokenBudget: { amount: '1000', period: 'WEEKLY' } } },
      org.ownerToken,
    );
    expect(apiKeyUpdate).toEqual({
      apiKey: {
        ...apiKey,
        name: 'Renamed',
        project: { id: projectId },
        budget: { amount: '12.25', period: 'WEEKLY' },
        tokenBudget: { amount: '1000', period: 'WEEKLY' },
      },
      userErrors: [],
    });
    // An update with nothing but the id changes nothing.
    const unchanged = await app.data(UPDATE, { input: { apiKeyId: apiKey.id } }, org.ownerToken);
    expect(unchanged.apiKeyUpdate).toEqual(apiKeyUpdate);
  });

  it('clears a budget, the project or the expiry on an explicit null; a null name leaves it as it is', async () => {
    const org = await organizationWithWorkspace(app);
    const projectId = await createProject(org.ownerToken, org.workspaceId);
    const { apiKey } = await createKey(org.ownerToken, {
      workspaceId: org.workspaceId,
      projectId,
      budget: { amount: '10', period: 'DAILY' },
      tokenBudget: { amount: '5000000000', period: 'DAILY' },
      requestsPerMinute: 60,
      expiresAt: '2027-01-01T00:00:00.000Z',
    });
    const { apiKeyUpdate } = await app.data(
      UPDATE,
      {
        input: {
          apiKeyId: apiKey.id,
          name: null,
          projectId: null,
          budget: null,
          tokenBudget: null,
          requestsPerMinute: null,
          expiresAt: null,
        },
      },
      org.ownerToken,
    );
    expect(apiKeyUpdate).toEqual({
      apiKey: { ...apiKey, project: null, budget: null, tokenBudget: null, requestsPerMinute: null, expiresAt: null },
      userErrors: [],
    });
    const [row] = await keyRows(org.workspaceId);
    expect(row).toMatchObject({
      name: 'Production',
      limit_period: 'DAILY',
      project_id: null,
      cost_limit: null,
      token_limit: null,
      requests_per_minute: null,
      expires_at: null,
    });
  });

  it('refuses the same invalid values as apiKeyCreate, and changes nothing', async () => {
    const org = await organizationWithWorkspace(app);
    const side = await createWorkspace(app, org.ownerToken, 'Side');
    const sideProject = await createProject(org.ownerToken, side.workspaceId);
    const { apiKey } = await createKey(org.ownerToken, { workspaceId: org.workspaceId, budget: monthly('1') });
    const before = await keyRows(org.workspaceId);
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ name: ' ' }, 'name', 'INVALID'],
      [{ budget: monthly('-1') }, 'budget.amount', 'INVALID'],
      // The budget keeps MONTHLY: a token budget must share it, unless both change.
      [{ tokenBudget: { amount: '5', period: 'DAILY' } }, 'tokenBudget.period', 'INVALID'],
      [{ requestsPerMinute: 0 }, 'requestsPerMinute', 'INVALID'],
      [{ requestsPerMinute: 2_000_000 }, 'requestsPerMinute', 'INVALID'],
      [{ expiresAt: '2026-03-18T00:00:00Z' }, 'expiresAt', 'INVALID'],
      [{ projectId: sideProject }, 'projectId', 'NOT_FOUND'],
      [{ apiKeyId: newId('apiKey') }, 'apiKeyId', 'NOT_FOUND'],
    ];
    for (const [input, field, code] of cases) {
      const { apiKeyUpdate } = await app.data(UPDATE, { input: { apiKeyId: apiKey.id, ...input } }, org.ownerToken);
      expect({ input, payload: apiKeyUpdate }).toEqual({
        input,
        payload: { apiKey: null, userErrors: [{ field: ['input', ...field.split('.')], code, message: expect.any(String) }] },
      });
    }
    const negativeTokens = await app.gql(UPDATE, { input: { apiKeyId: apiKey.id, tokenBudget: monthly(-1) } }, org.ownerToken);
    expect(codes(negativeTokens)).toEqual(['BAD_USER_INPUT']);
    expect(await keyRows(org.workspaceId)).toEqual(before);
  });

  it('refuses to change a revoked key', async () => {
    const org = await organizationWithWorkspace(app);
    const { apiKey } = await createKey(org.ownerToken, { workspaceId: org.workspaceId });
    expectNoUserErrors((await app.data(REVOKE, { input: { apiKeyId: apiKey.id } }, org.ownerToken)).apiKeyRevoke);
    const { apiKeyUpdate } = await app.data(UPDATE, { input: { apiKeyId: apiKey.id, budget: monthly('5') } }, org.ownerToken);
    expect(apiKeyUpdate).toEqual({
      apiKey: null,
      userErrors: [{ field: ['input', 'apiKeyId'], code: 'INVALID', message: 'A revoked API key cannot be changed' }],
    });
  });
});

describe('apiKeyRevoke', () => {
  it('revokes once: revoking again returns the first revocation unchanged', async () => {
    const org = await organizationWithWorkspace(app);
    const { apiKey } = await createKey(org.ownerToken, { workspaceId: org.workspaceId });
    const first = await app.data(REVOKE, { input: { apiKeyId: apiKey.id } }, org.ownerToken);
    expect(first.apiKeyRevoke).toEqual({ apiKey: { id: apiKey.id, revokedAt: WEDNESDAY_NOON.toISOString() }, userErrors: [] });

    clock.now = new Date('2026-03-19T08:00:00.000Z');
    const again = await app.data(REVOKE, { input: { apiKeyId: apiKey.id } }, org.ownerToken);
    expect(again.apiKeyRevoke).toEqual(first.apiKeyRevoke);
    const [row] = await keyRows(org.workspaceId);
    expect(new Date(row.revoked_at).toISOString()).toBe(WEDNESDAY_NOON.toISOString());
  });

  it('answers NOT_FOUND for a key of another organization, and leaves it alone', async () => {
    const org = await organizationWithWorkspace(app);
    const other = await organizationWithWorkspace(app);
    const { apiKey } = await createKey(other.ownerToken, { workspaceId: other.workspaceId });
    for (const apiKeyId of [apiKey.id, newId('apiKey')]) {
      const { apiKeyRevoke } = await app.data(REVOKE, { input: { apiKeyId } }, org.ownerToken);
      expect(apiKeyRevoke).toEqual({ apiKey: null, userErrors: [{ field: ['input', 'apiKeyId'], code: 'NOT_FOUND', message: 'No such API key' }] });
    }
    const { apiKeyUpdate } = await app.data(UPDATE, { input: { apiKeyId: apiKey.id, name: 'Mine now' } }, org.ownerToken);
    expect(apiKeyUpdate.userErrors).toEqual([{ field: ['input', 'apiKeyId'], code: 'NOT_FOUND', message: 'No such API key' }]);
    expect(await keyRows(other.workspaceId)).toEqual([expect.objectContaining({ id: apiKey.id, name: 'Production', revoked_at: null })]);
  });
});

describe('who may manage keys', () => {
  it.each(['VIEWER', 'MEMBER'])('answers FORBIDDEN to a %s for every key mutation, yet lets them read the keys', async (role) => {
    const org = await organizationWithWorkspace(app);
    const { apiKey } = await createKey(org.ownerToken, { workspaceId: org.workspaceId });
    const reader = await createMemberWithToken(app, org.ownerToken, role);
    const attempts: Array<[string, Record<string, unknown>]> = [
      [CREATE, { workspaceId: org.workspaceId, name: 'Mine' }],
      [UPDATE, { apiKeyId: apiKey.id, name: 'Mine' }],
      [REVOKE, { apiKeyId: apiKey.id }],
    ];
    const before = await keyRows(org.workspaceId);
    for (const [document, input] of attempts) {
      const result = await app.gql(document, { input }, reader.token);
      expect({ input, codes: codes(result), status: result.status, data: result.data }).toEqual({
        input,
        codes: ['FORBIDDEN'],
        status: 403,
        data: null,
      });
    }
    expect(await keyRows(org.workspaceId)).toEqual(before);
    const page = await app.data(KEYS_PAGE, { id: org.workspaceId }, reader.token);
    expect(page.node.apiKeys.edges.map((edge: { node: { id: string } }) => edge.node.id)).toEqual([apiKey.id]);
  });

  it('answers FORBIDDEN to the platform admin and the gateway, UNAUTHENTICATED without a token', async () => {
    const org = await organizationWithWorkspace(app);
    const input = { workspaceId: org.workspaceId, name: 'Key' };
    expect(codes(await app.gql(CREATE, { input }, ADMIN_TOKEN))).toEqual(['FORBIDDEN']);
    expect(codes(await app.gql(CREATE, { input }, GATEWAY_TOKEN))).toEqual(['FORBIDDEN']);
    expect(codes(await app.gql(CREATE, { input }))).toEqual(['UNAUTHENTICATED']);
    expect(await keyRows(org.workspaceId)).toEqual([]);
  });

  it('lets an ADMIN create, update and revoke keys', async () => {
    const org = await organizationWithWorkspace(app);
    const admin = await createMemberWithToken(app, org.ownerToken, 'ADMIN');
    const { apiKey } = await createKey(admin.token, { workspaceId: org.workspaceId });
    expectNoUserErrors((await app.data(UPDATE, { input: { apiKeyId: apiKey.id, budget: monthly('3') } }, admin.token)).apiKeyUpdate);
    expectNoUserErrors((await app.data(REVOKE, { input: { apiKeyId: apiKey.id } }, admin.token)).apiKeyRevoke);
  });

  it("shows another organization's key and its workspace's keys as nothing", async () => {
    const org = await organizationWithWorkspace(app);
    const other = await organizationWithWorkspace(app);
    const { apiKey } = await createKey(other.ownerToken, { workspaceId: other.workspaceId });
    const node = await app.data(`query ($id: ID!) { node(id: $id) { id } }`, { id: apiKey.id }, org.ownerToken);
    expect(node.node).toBeNull();
    expect((await app.data(KEYS_PAGE, { id: other.workspaceId }, org.ownerToken)).node).toBeNull();
    const own = await app.data(`query ($id: ID!) { node(id: $id) { __typename id } }`, { id: apiKey.id }, other.ownerToken);
    expect(own.node).toEqual({ __typename: 'ApiKey', id: apiKey.id });
  });
});

describe('Workspace.apiKeys', () => {
  it('pages through the keys newest first, in both directions', async () => {
    const org = await organizationWithWorkspace(app);
    const made: string[] = [];
    for (let i = 0; i < 7; i += 1) made.push((await createKey(org.ownerToken, { workspaceId: org.workspaceId, name: `Key ${i}` })).apiKey.id);
    const newestFirst = [...made].reverse();
    // Revoked keys stay in the list.
    expectNoUserErrors((await app.data(REVOKE, { input: { apiKeyId: made[3] } }, org.ownerToken)).apiKeyRevoke);

    const ids: string[] = [];
    let after: string | null = null;
    for (;;) {
      const { node }: { node: any } = await app.data(KEYS_PAGE, { id: org.workspaceId, first: 3, after }, org.ownerToken);
      ids.push(...node.apiKeys.edges.map((edge: { node: { id: string } }) => edge.node.id));
      if (!node.apiKeys.pageInfo.hasNextPage) break;
      after = node.apiKeys.pageInfo.endCursor;
    }
    expect(ids).toEqual(newestFirst);

    const { node } = await app.data(KEYS_PAGE, { id: org.workspaceId, last: 2 }, org.ownerToken);
    expect(node.apiKeys.edges.map((edge: { node: { id: string } }) => edge.node.id)).toEqual(newestFirst.slice(5));
    expect(node.apiKeys.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    const before = await app.data(KEYS_PAGE, { id: org.workspaceId, last: 2, before: node.apiKeys.pageInfo.startCursor }, org.ownerToken);
    expect(before.node.apiKeys.edges.map((edge: { node: { id: string } }) => edge.node.id)).toEqual(newestFirst.slice(3, 5));
  });
});

describe('usage and what the limits leave', () => {
  async function keyWith(input: Record<string, unknown>) {
    const org = await organizationWithWorkspace(app);
    const { apiKey } = await createKey(org.ownerToken, { workspaceId: org.workspaceId, ...input });
    const limits = async () => (await app.data(LIMITS, { id: apiKey.id }, org.ownerToken)).node;
    return { org, apiKey, limits };
  }

  it('is zero with no counters yet, and the budgets are whole', async () => {
    const { limits } = await keyWith({ budget: { amount: '10', period: 'DAILY' }, tokenBudget: { amount: 1000, period: 'DAILY' } });
    expect(await limits()).toEqual({
      usage: { daily: '0', weekly: '0', monthly: '0', yearly: '0' },
      budget: { amount: '10', period: 'DAILY', remaining: '10', resetAt: '2026-03-19T00:00:00.000Z' },
      tokenBudget: { amount: '1000', period: 'DAILY', remaining: '1000', resetAt: '2026-03-19T00:00:00.000Z' },
    });
  });

  it('reads the counters of the current day, week (from Monday), month and year; past periods do not count', async () => {
    const { apiKey, limits } = await keyWith({ budget: monthly('100'), tokenBudget: monthly('10000000000') });
    const now = WEDNESDAY_NOON;
    await setCounter(app, apiKey.id, Period.DAILY, now, { cost: usd('1.5'), tokens: 100n, heldCost: usd('0.25'), heldTokens: 10n });
    await setCounter(app, apiKey.id, Period.WEEKLY, now, { cost: usd('7'), tokens: 700n, heldCost: usd('0.25'), heldTokens: 10n });
    await setCounter(app, apiKey.id, Period.MONTHLY, now, {
      cost: usd('30.000000001'),
      tokens: 3_000_000_000n,
      heldCost: usd('0.25'),
      heldTokens: 10n,
    });
    await setCounter(app, apiKey.id, Period.YEARLY, now, { cost: usd('300'), tokens: 30_000n });
    // Yesterday, last week (Sunday the 15th is in the week of Monday the 9th), last month, last year.
    await setCounter(app, apiKey.id, Period.DAILY, new Date('2026-03-17T23:59:59.999Z'), { cost: usd('1000'), tokens: 1n });
    await setCounter(app, apiKey.id, Period.WEEKLY, new Date('2026-03-15T23:59:59.999Z'), { cost: usd('1000'), tokens: 1n });
    await setCounter(app, apiKey.id, Period.MONTHLY, new Date('2026-02-28T12:00:00Z'), { cost: usd('1000'), tokens: 1n });
    await setCounter(app, apiKey.id, Period.YEARLY, new Date('2025-12-31T23:00:00Z'), { cost: usd('1000'), tokens: 1n });

    expect(await limits()).toEqual({
      usage: { daily: '1.5', weekly: '7', monthly: '30.000000001', yearly: '300' },
      // 100 - (30.000000001 captured + 0.25 held)
      budget: { amount: '100', period: 'MONTHLY', remaining: '69.749999999', resetAt: '2026-04-01T00:00:00.000Z' },
      // 10,000,000,000 - (3,000,000,000 + 10 held): beyond a 32-bit Int
      tokenBudget: { amount: '10000000000', period: 'MONTHLY', remaining: '6999999990', resetAt: '2026-04-01T00:00:00.000Z' },
    });
  });

  it("follows the key's budget period, and a new period starts from zero", async () => {
    const budgets = (period: string) => ({ budget: { amount: '10', period }, tokenBudget: { amount: 500, period } });
    const { org, apiKey, limits } = await keyWith(budgets('DAILY'));
    const remaining = (node: { budget: { remaining: string; resetAt: string }; tokenBudget: { remaining: string } }) => ({
      remaining: node.budget.remaining,
      tokens: node.tokenBudget.remaining,
      resetAt: node.budget.resetAt,
    });
    const costs: Array<[Period, bigint]> = [
      [Period.DAILY, usd('2')],
      [Period.WEEKLY, usd('4')],
      [Period.MONTHLY, usd('6')],
    ];
    // Tokens: 100 per dollar.
    for (const [period, cost] of costs) await setCounter(app, apiKey.id, period, WEDNESDAY_NOON, { cost, tokens: cost / 10_000_000n });
    expect(remaining(await limits())).toEqual({ remaining: '8', tokens: '300', resetAt: '2026-03-19T00:00:00.000Z' });

    const expectations: Array<[KeyLimitPeriod, string, string, string]> = [
      [KeyLimitPeriod.WEEKLY, '6', '100', '2026-03-23T00:00:00.000Z'],
      [KeyLimitPeriod.MONTHLY, '4', '0', '2026-04-01T00:00:00.000Z'],
    ];
    for (const [period, left, tokens, resetAt] of expectations) {
      expectNoUserErrors((await app.data(UPDATE, { input: { apiKeyId: apiKey.id, ...budgets(period) } }, org.ownerToken)).apiKeyUpdate);
      const node = await limits();
      expect([node.budget.period, node.tokenBudget.period]).toEqual([period, period]);
      expect(remaining(node)).toEqual({ remaining: left, tokens, resetAt });
    }

    // The next day the daily counter is a past period's; the week and month go on.
    clock.now = new Date('2026-03-19T00:00:00.000Z');
    expectNoUserErrors((await app.data(UPDATE, { input: { apiKeyId: apiKey.id, ...budgets('DAILY') } }, org.ownerToken)).apiKeyUpdate);
    expect(await limits()).toEqual({
      usage: { daily: '0', weekly: '4', monthly: '6', yearly: '0' },
      budget: { amount: '10', period: 'DAILY', remaining: '10', resetAt: '2026-03-20T00:00:00.000Z' },
      tokenBudget: { amount: '500', period: 'DAILY', remaining: '500', resetAt: '2026-03-20T00:00:00.000Z' },
    });
    // The last instant of a Sunday is still in the week that began on Monday.
    clock.now = new Date('2026-03-22T23:59:59.999Z');
    expectNoUserErrors((await app.data(UPDATE, { input: { apiKeyId: apiKey.id, ...budgets('WEEKLY') } }, org.ownerToken)).apiKeyUpdate);
    expect(await limits()).toMatchObject({ usage: { daily: '0', weekly: '4', monthly: '6', yearly: '0' }, budget: { resetAt: '2026-03-23T00:00:00.000Z' } });
    clock.now = new Date('2026-03-23T00:00:00.000Z');
    expect(await limits()).toMatchObject({ usage: { daily: '0', weekly: '0', monthly: '6', yearly: '0' }, budget: { remaining: '10' } });
  });

  it('never goes below zero, and is null without a budget', async () => {
    const over = await keyWith({ budget: monthly('5'), tokenBudget: monthly(100) });
    await setCounter(app, over.apiKey.id, Period.MONTHLY, WEDNESDAY_NOON, { cost: usd('4'), heldCost: usd('2'), tokens: 90n, heldTokens: 20n });
    expect(await over.limits()).toMatchObject({ budget: { remaining: '0' }, tokenBudget: { remaining: '0' } });

    const unlimited = await keyWith({});
    await setCounter(app, unlimited.apiKey.id, Period.MONTHLY, WEDNESDAY_NOON, { cost: usd('4'), tokens: 90n });
    expect(await unlimited.limits()).toEqual({ usage: { daily: '0', weekly: '0', monthly: '4', yearly: '0' }, budget: null, tokenBudget: null });
  });

  it('loads the counters of a whole page of keys with one query', async () => {
    const org = await organizationWithWorkspace(app);
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const { apiKey } = await createKey(org.ownerToken, { workspaceId: org.workspaceId, budget: monthly('10') });
      await setCounter(app, apiKey.id, Period.MONTHLY, WEDNESDAY_NOON, { cost: usd(String(i)) });
      ids.push(apiKey.id);
    }
    const connection = app.orm.em.getConnection();
    const execute = jest.spyOn(connection, 'execute');
    try {
      const { node } = await app.data(
        `query ($id: ID!) { node(id: $id) { ... on Workspace { apiKeys(first: 10) { nodes { id usage { monthly } budget { remaining resetAt } } } } } }`,
        { id: org.workspaceId },
        org.ownerToken,
      );
      expect(node.apiKeys.nodes.map((key: { usage: { monthly: string } }) => key.usage.monthly)).toEqual(['4', '3', '2', '1', '0']);
      expect(node.apiKeys.nodes.map((key: { budget: { remaining: string } }) => key.budget.remaining)).toEqual(['6', '7', '8', '9', '10']);
      const counterQueries = execute.mock.calls.filter(([sql]) => typeof sql === 'string' && sql.includes('usage_counters'));
      expect(counterQueries).toHaveLength(1);
    } finally {
      execute.mockRestore();
    }
  });
});
