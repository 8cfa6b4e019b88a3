import { useTestApp } from './support/app';
import { createOrganization, createWorkspace, expectNoUserErrors, fund, PROJECT_CREATE, type OrgFixture } from './support/fixtures';
import { createApiKey, debit, setModelPrice } from './support/gateway';

const app = useTestApp();

const DASHBOARD = `{ organization { name workspaces { nodes { name wallet { balance transactions(first: 20) {
  nodes { id type amount apiKey { name } identity { externalId } project { name } }
} } } } } }`;

const WORKSPACES_PAGE = `{ organization { workspaces { nodes { name projects { nodes { name } } apiKeys(first: 10) { nodes { name project { name } } }
  identities(first: 10) { nodes { externalId } } wallet { lowBalanceThresholds { amount } spendProjection { last7Days { spend } } } } } } }`;

/** An organization with `workspaces` workspaces, each with two keys (one in a project) and `debits` debits by two end users. */
async function organizationOfSize(workspaces: number, debits: number): Promise<OrgFixture> {
  const org = await createOrganization(app);
  const model = `model-${org.organizationId}`;
  await setModelPrice(app, model);
  for (let w = 0; w < workspaces; w += 1) {
    const workspace = await createWorkspace(app, org.ownerToken);
    await fund(app, workspace.walletId, '5');
    const { projectCreate } = await app.data(PROJECT_CREATE, { input: { workspaceId: workspace.workspaceId, name: `P${w}` } }, org.ownerToken);
    expectNoUserErrors(projectCreate);
    const keys = [
      await createApiKey(app, org.ownerToken, workspace.workspaceId),
      await createApiKey(app, org.ownerToken, workspace.workspaceId, { projectId: projectCreate.project.id }),
    ];
    for (let i = 0; i < debits; i += 1) {
      expect((await debit(app, { secret: keys[i % 2].secret, model }, { identity: i % 3 === 0 ? 'alice' : 'bob' })).allowed).toBe(true);
    }
  }
  return org;
}

/** The SQL statements the server runs to answer `query` for `token`. */
async function statementsFor(query: string, token: string): Promise<{ count: number; data: any }> {
  const knex = app.orm.em.getConnection().getKnex();
  let count = 0;
  const listener = () => (count += 1);
  knex.on('query', listener);
  try {
    const data = await app.data(query, {}, token);
    return { count, data };
  } finally {
    knex.removeListener('query', listener);
  }
}

describe('statements per dashboard query', () => {
  it('stay the same however many workspaces, transactions, keys, end users and projects there are', async () => {
    const small = await organizationOfSize(1, 2);
    const large = await organizationOfSize(4, 6);
    const few = await statementsFor(DASHBOARD, small.ownerToken);
    const many = await statementsFor(DASHBOARD, large.ownerToken);
    expect(few.data.organization.workspaces.nodes[0].wallet.transactions.nodes).toHaveLength(3);
    const rows = many.data.organization.workspaces.nodes.flatMap((workspace: any) => workspace.wallet.transactions.nodes);
    expect(rows).toHaveLength(4 * 7);
    expect(rows.filter((row: any) => row.type === 'DEDUCTION').every((row: any) => row.apiKey && row.identity)).toBe(true);
    expect(rows.filter((row: any) => row.project).length).toBe(4 * 3);
    expect(many.count).toBe(few.count);
    // Token, organization, workspaces, wallets, two for the pages, keys, end users, projects.
    expect(many.count).toBeLessThanOrEqual(10);
  });

  it('stay the same for the workspace pages: keys, end users, projects, thresholds', async () => {
    const small = await organizationOfSize(1, 2);
    const large = await organizationOfSize(3, 3);
    const few = await statementsFor(WORKSPACES_PAGE, small.ownerToken);
    const many = await statementsFor(WORKSPACES_PAGE, large.ownerToken);
    expect(many.data.organization.workspaces.nodes.flatMap((workspace: any) => workspace.apiKeys.nodes)).toHaveLength(6);
    expect(many.data.organization.workspaces.nodes.flatMap((workspace: any) => workspace.identities.nodes)).toHaveLength(6);
    // The spend projection reads two windows per wallet: it is the one field that grows with them.
    expect(many.count - few.count).toBe((3 - 1) * 2);
  });
});
