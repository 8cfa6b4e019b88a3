import { newId } from '../src/ids';
import { Period } from '../src/limits/periods';
import { parseMoney as usd } from '../src/money';
import { ADMIN_TOKEN, useTestApp } from './support/app';
import { codes, createMemberWithToken, createWorkspace, expectNoUserErrors, organizationWithWorkspace, unique } from './support/fixtures';
import { setCounter, type TestClock } from './support/usage';

const NOW = new Date('2026-03-18T12:00:00.000Z');
const clock: TestClock = { now: NOW };
const app = useTestApp({ clock: () => clock.now });

beforeEach(() => {
  clock.now = NOW;
});

const PROJECT_FIELDS = 'id name budget { amount period } workspace { id }';
const PROJECT_CREATE = `mutation ($input: ProjectCreateInput!) {
  projectCreate(input: $input) { project { ${PROJECT_FIELDS} } userErrors { field code message } }
}`;
const PROJECT_UPDATE = `mutation ($input: ProjectUpdateInput!) {
  projectUpdate(input: $input) { project { ${PROJECT_FIELDS} } userErrors { field code message } }
}`;
const PROJECT_BUDGET = `query ($id: ID!) {
  node(id: $id) { ... on Project { usage { daily weekly monthly yearly } budget { amount period remaining resetAt } } }
}`;
const WORKSPACE_UPDATE = `mutation ($input: WorkspaceUpdateInput!) {
  workspaceUpdate(input: $input) { workspace { id name markupBasisPoints } userErrors { field code message } }
}`;

async function projectRows(workspaceId: string) {
  return app.orm.em.fork().execute('select id, name, budget, budget_period from projects where workspace_id = ? order by id', [workspaceId]);
}

describe('project budgets', () => {
  it('creates a project with or without a budget', async () => {
    const org = await organizationWithWorkspace(app);
    const plain = await app.data(PROJECT_CREATE, { input: { workspaceId: org.workspaceId, name: 'Plain' } }, org.ownerToken);
    expect(plain.projectCreate).toEqual({
      project: { id: expect.stringMatching(/^prj_/), name: 'Plain', budget: null, workspace: { id: org.workspaceId } },
      userErrors: [],
    });
    const budgeted = await app.data(
      PROJECT_CREATE,
      { input: { workspaceId: org.workspaceId, name: 'Budgeted', budget: { amount: '100.00', period: 'MONTHLY' } } },
      org.ownerToken,
    );
    expect(budgeted.projectCreate.project).toMatchObject({ name: 'Budgeted', budget: { amount: '100', period: 'MONTHLY' } });
  });

  it('refuses a negative budget, and a budget without its period', async () => {
    const org = await organizationWithWorkspace(app);
    const noPeriod = await app.gql(PROJECT_CREATE, { input: { workspaceId: org.workspaceId, name: 'P', budget: { amount: '5' } } }, org.ownerToken);
    expect(noPeriod.errors?.[0]).toMatchObject({ message: expect.stringContaining('Field "period" of required type "BudgetPeriod!" was not provided'), extensions: { code: 'BAD_USER_INPUT' } });
    const cases: Array<[Record<string, unknown>, string]> = [[{ budget: { amount: '-5', period: 'DAILY' } }, 'budget.amount']];
    for (const [input, field] of cases) {
      const { projectCreate } = await app.data(PROJECT_CREATE, { input: { workspaceId: org.workspaceId, name: 'P', ...input } }, org.ownerToken);
      expect({ input, payload: projectCreate }).toEqual({
        input,
        payload: { project: null, userErrors: [{ field: ['input', ...field.split('.')], code: 'INVALID', message: expect.stringContaining(field) }] },
      });
    }
    expect(await projectRows(org.workspaceId)).toEqual([]);
  });

  it('renames a project and sets, keeps or clears its budget', async () => {
    const org = await organizationWithWorkspace(app);
    const { projectCreate } = await app.data(PROJECT_CREATE, { input: { workspaceId: org.workspaceId, name: 'Chatbot' } }, org.ownerToken);
    const project = projectCreate.project;
    const update = async (input: Record<string, unknown>) =>
      (await app.data(PROJECT_UPDATE, { input: { projectId: project.id, ...input } }, org.ownerToken)).projectUpdate;

    expect(await update({ budget: { amount: '50', period: 'WEEKLY' } })).toEqual({
      project: { ...project, budget: { amount: '50', period: 'WEEKLY' } },
      userErrors: [],
    });
    expect(await update({ name: '  Support bot ' })).toEqual({
      project: { ...project, name: 'Support bot', budget: { amount: '50', period: 'WEEKLY' } },
      userErrors: [],
    });
    expect(await update({ name: null })).toEqual({
      project: { ...project, name: 'Support bot', budget: { amount: '50', period: 'WEEKLY' } },
      userErrors: [],
    });
    expect(await update({ budget: null })).toEqual({ project: { ...project, name: 'Support bot' }, userErrors: [] });
    expect(await projectRows(org.workspaceId)).toEqual([{ id: project.id, name: 'Support bot', budget: null, budget_period: null }]);
  });

  it('refuses invalid updates, a taken name and unknown projects, changing nothing', async () => {
    const org = await organizationWithWorkspace(app);
    const other = await organizationWithWorkspace(app);
    const made: string[] = [];
    for (const name of ['One', 'Two']) {
      const { projectCreate } = await app.data(PROJECT_CREATE, { input: { workspaceId: org.workspaceId, name, budget: { amount: '1', period: 'DAILY' } } }, org.ownerToken);
      made.push(projectCreate.project.id);
    }
    const { projectCreate: theirs } = await app.data(PROJECT_CREATE, { input: { workspaceId: other.workspaceId, name: 'Theirs' } }, other.ownerToken);
    const before = await projectRows(org.workspaceId);
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ name: '' }, 'name', 'INVALID'],
      [{ name: 'Two' }, 'name', 'TAKEN'],
      [{ budget: { amount: '-1', period: 'DAILY' } }, 'budget.amount', 'INVALID'],
      [{ projectId: theirs.project.id }, 'projectId', 'NOT_FOUND'],
      [{ projectId: newId('project') }, 'projectId', 'NOT_FOUND'],
    ];
    for (const [input, field, code] of cases) {
      const { projectUpdate } = await app.data(PROJECT_UPDATE, { input: { projectId: made[0], ...input } }, org.ownerToken);
      expect({ input, payload: projectUpdate }).toEqual({
        input,
        payload: { project: null, userErrors: [{ field: ['input', ...field.split('.')], code, message: expect.any(String) }] },
      });
    }
    expect(await projectRows(org.workspaceId)).toEqual(before);
    expect(await projectRows(other.workspaceId)).toEqual([expect.objectContaining({ name: 'Theirs' })]);
  });

  it('computes usage and what the budget leaves from the counters of the current periods', async () => {
    const org = await organizationWithWorkspace(app);
    const { projectCreate } = await app.data(
      PROJECT_CREATE,
      { input: { workspaceId: org.workspaceId, name: 'Metered', budget: { amount: '10', period: 'WEEKLY' } } },
      org.ownerToken,
    );
    const id = projectCreate.project.id;
    await setCounter(app, id, Period.DAILY, NOW, { cost: usd('0.5') });
    await setCounter(app, id, Period.WEEKLY, NOW, { cost: usd('3'), heldCost: usd('1.25') });
    await setCounter(app, id, Period.WEEKLY, new Date('2026-03-15T12:00:00Z'), { cost: usd('9') });
    await setCounter(app, id, Period.MONTHLY, NOW, { cost: usd('12') });
    const read = async () => (await app.data(PROJECT_BUDGET, { id }, org.ownerToken)).node;
    expect(await read()).toEqual({
      usage: { daily: '0.5', weekly: '3', monthly: '12', yearly: '0' },
      budget: { amount: '10', period: 'WEEKLY', remaining: '5.75', resetAt: '2026-03-23T00:00:00.000Z' },
    });
    expectNoUserErrors(
      (await app.data(PROJECT_UPDATE, { input: { projectId: id, budget: { amount: '10', period: 'MONTHLY' } } }, org.ownerToken)).projectUpdate,
    );
    expect(await read()).toMatchObject({ budget: { remaining: '0', resetAt: '2026-04-01T00:00:00.000Z' } });
    expectNoUserErrors((await app.data(PROJECT_UPDATE, { input: { projectId: id, budget: null } }, org.ownerToken)).projectUpdate);
    expect(await read()).toMatchObject({ budget: null });
  });
});

describe('workspace markup', () => {
  it('is the platform admin\'s to set: an owner is FORBIDDEN and nothing changes', async () => {
    const org = await organizationWithWorkspace(app);
    const result = await app.gql(WORKSPACE_UPDATE, { input: { workspaceId: org.workspaceId, markupBasisPoints: 0 } }, org.ownerToken);
    expect(result.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const [row] = await app.orm.em.fork().execute('select markup_bps from workspaces where id = ?', [org.workspaceId]);
    expect(row.markup_bps).toBe(1000);
  });

  it('starts at 1000 basis points (10%) and may be set from 0 to 100000', async () => {
    const org = await organizationWithWorkspace(app);
    const read = async () =>
      (await app.data(`query ($id: ID!) { node(id: $id) { ... on Workspace { markupBasisPoints } } }`, { id: org.workspaceId }, org.ownerToken)).node;
    expect(await read()).toEqual({ markupBasisPoints: 1000 });
    for (const markupBasisPoints of [0, 2500, 100_000]) {
      const { workspaceUpdate } = await app.data(WORKSPACE_UPDATE, { input: { workspaceId: org.workspaceId, markupBasisPoints } }, ADMIN_TOKEN);
      expect(workspaceUpdate).toEqual({ workspace: { id: org.workspaceId, name: 'Main', markupBasisPoints }, userErrors: [] });
    }
    // Left out or null: unchanged.
    const renamed = await app.data(WORKSPACE_UPDATE, { input: { workspaceId: org.workspaceId, name: 'Renamed', markupBasisPoints: null } }, org.ownerToken);
    expect(renamed.workspaceUpdate.workspace).toEqual({ id: org.workspaceId, name: 'Renamed', markupBasisPoints: 100_000 });
    const [row] = await app.orm.em.fork().execute('select name, markup_bps from workspaces where id = ?', [org.workspaceId]);
    expect(row).toEqual({ name: 'Renamed', markup_bps: 100_000 });
  });

  it('refuses a markup out of range, a taken name and unknown workspaces', async () => {
    const org = await organizationWithWorkspace(app);
    await createWorkspace(app, org.ownerToken, 'Taken');
    const other = await organizationWithWorkspace(app);
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ markupBasisPoints: -1 }, 'markupBasisPoints', 'INVALID'],
      [{ markupBasisPoints: 100_001 }, 'markupBasisPoints', 'INVALID'],
      [{ name: ' ' }, 'name', 'INVALID'],
      [{ name: 'Taken' }, 'name', 'TAKEN'],
      [{ workspaceId: other.workspaceId, name: 'Elsewhere' }, 'workspaceId', 'NOT_FOUND'],
      [{ workspaceId: newId('workspace') }, 'workspaceId', 'NOT_FOUND'],
    ];
    for (const [input, field, code] of cases) {
      const token = 'markupBasisPoints' in input ? ADMIN_TOKEN : org.ownerToken;
      const { workspaceUpdate } = await app.data(WORKSPACE_UPDATE, { input: { workspaceId: org.workspaceId, ...input } }, token);
      expect({ input, payload: workspaceUpdate }).toEqual({
        input,
        payload: { workspace: null, userErrors: [{ field: ['input', field], code, message: expect.any(String) }] },
      });
    }
    const rows = await app.orm.em.fork().execute<Array<{ markup_bps: number }>>('select markup_bps from workspaces where id in (?, ?)', [
      org.workspaceId,
      other.workspaceId,
    ]);
    expect(rows.map((row) => row.markup_bps)).toEqual([1000, 1000]);
  });

  it('lets the platform admin set the markup of any workspace', async () => {
    const org = await organizationWithWorkspace(app);
    const { workspaceUpdate } = await app.data(WORKSPACE_UPDATE, { input: { workspaceId: org.workspaceId, markupBasisPoints: 0 } }, ADMIN_TOKEN);
    expect(workspaceUpdate).toEqual({ workspace: { id: org.workspaceId, name: 'Main', markupBasisPoints: 0 }, userErrors: [] });
  });
});

describe('who may change projects and workspaces', () => {
  it.each(['VIEWER', 'MEMBER'])('answers FORBIDDEN to a %s and changes nothing', async (role) => {
    const org = await organizationWithWorkspace(app);
    const { projectCreate } = await app.data(PROJECT_CREATE, { input: { workspaceId: org.workspaceId, name: unique('P') } }, org.ownerToken);
    const actor = await createMemberWithToken(app, org.ownerToken, role);
    const before = await projectRows(org.workspaceId);
    const attempts: Array<[string, Record<string, unknown>]> = [
      [PROJECT_UPDATE, { projectId: projectCreate.project.id, budget: { amount: '1', period: 'DAILY' } }],
      [PROJECT_CREATE, { workspaceId: org.workspaceId, name: 'Mine', budget: { amount: '1', period: 'DAILY' } }],
      [WORKSPACE_UPDATE, { workspaceId: org.workspaceId, markupBasisPoints: 0 }],
    ];
    for (const [document, input] of attempts) {
      const result = await app.gql(document, { input }, actor.token);
      expect({ input, codes: codes(result), status: result.status, data: result.data }).toEqual({ input, codes: ['FORBIDDEN'], status: 403, data: null });
    }
    expect(await projectRows(org.workspaceId)).toEqual(before);
    const [row] = await app.orm.em.fork().execute('select markup_bps from workspaces where id = ?', [org.workspaceId]);
    expect(row.markup_bps).toBe(1000);
  });
});
