import { ADMIN_TOKEN, useTestApp } from './support/app';
import { codes, createWorkspace, expectNoUserErrors, PROJECT_CREATE, unique } from './support/fixtures';
import { createApiKey, debit, gatewaySetup, setModelPrice } from './support/gateway';

/** The server's clock, moved by the test so that debits land in chosen hours and days. */
let now = new Date('2026-03-02T10:15:00Z');
const app = useTestApp({ clock: () => now });

const USAGE = `query ($filter: UsageFilterInput!, $groupBy: [UsageGroup!]!) {
  usage(filter: $filter, groupBy: $groupBy) {
    rows { day model apiKey { id } identity { externalId } project { name } cost inputTokens outputTokens requests }
    total { cost inputTokens outputTokens requests }
  }
}`;

interface Fixture {
  token: string;
  organizationId: string;
  workspaceId: string;
  modelA: string;
  modelB: string;
  plainKey: { apiKeyId: string; secret: string };
  projectKey: { apiKeyId: string; secret: string };
}

/**
 * By hand, with the default 10% markup: model A costs $1 / $2 per 1M input / output tokens,
 * model B $3 / $6.
 *   2026-03-02 10:15  plain key, A, alice, 1000 in            → 0.0011
 *   2026-03-02 10:45  plain key, A, bob,   2000 in, 500 out   → 0.0033
 *   2026-03-02 11:30  project key, B, alice, 1000 in, 1000 out → 0.0099
 *   2026-03-03 09:00  plain key, B,        1000 in            → 0.0033
 */
async function spendFixture(): Promise<Fixture> {
  const base = await gatewaySetup(app, '10');
  const modelB = unique('model-b').replace(' ', '-');
  await setModelPrice(app, modelB, { inputPricePerMillion: '3', outputPricePerMillion: '6' });
  const { projectCreate } = await app.data(PROJECT_CREATE, { input: { workspaceId: base.workspaceId, name: 'Research' } }, base.ownerToken);
  expectNoUserErrors(projectCreate);
  const projectKey = await createApiKey(app, base.ownerToken, base.workspaceId, { projectId: projectCreate.project.id });
  const spend = async (at: string, secret: string, model: string, input: Record<string, unknown>) => {
    now = new Date(at);
    expect((await debit(app, { secret, model }, input)).allowed).toBe(true);
  };
  await spend('2026-03-02T10:15:00Z', base.secret, base.model, { identity: 'alice', inputTokens: 1000, outputTokens: 0 });
  await spend('2026-03-02T10:45:00Z', base.secret, base.model, { identity: 'bob', inputTokens: 2000, outputTokens: 500 });
  await spend('2026-03-02T11:30:00Z', projectKey.secret, modelB, { identity: 'alice', inputTokens: 1000, outputTokens: 1000 });
  await spend('2026-03-03T09:00:00Z', base.secret, modelB, { inputTokens: 1000, outputTokens: 0 });
  return {
    token: base.ownerToken,
    organizationId: base.organizationId,
    workspaceId: base.workspaceId,
    modelA: base.model,
    modelB,
    plainKey: { apiKeyId: base.apiKeyId, secret: base.secret },
    projectKey,
  };
}

async function report(fixture: Fixture, filter: Record<string, unknown>, groupBy: string[]) {
  return (await app.data(USAGE, { filter: { from: '2026-03-01T00:00:00Z', to: '2026-03-04T00:00:00Z', ...filter }, groupBy }, fixture.token)).usage;
}

const amounts = (cost: string, inputTokens: string, outputTokens: string, requests: string) => ({ cost, inputTokens, outputTokens, requests });

describe('usage reports', () => {
  let fixture: Fixture;
  beforeAll(async () => {
    fixture = await spendFixture();
  });

  it('groups spend by day and model, exactly as computed by hand', async () => {
    const usage = await report(fixture, {}, ['DAY', 'MODEL']);
    const [first, second] = [fixture.modelA, fixture.modelB].sort();
    const day2 = (model: string) => (model === fixture.modelA ? amounts('0.0044', '3000', '500', '2') : amounts('0.0099', '1000', '1000', '1'));
    expect(usage.rows).toEqual([
      { day: '2026-03-02T00:00:00.000Z', model: first, apiKey: null, identity: null, project: null, ...day2(first) },
      { day: '2026-03-02T00:00:00.000Z', model: second, apiKey: null, identity: null, project: null, ...day2(second) },
      { day: '2026-03-03T00:00:00.000Z', model: fixture.modelB, apiKey: null, identity: null, project: null, ...amounts('0.0033', '1000', '0', '1') },
    ]);
    expect(usage.total).toEqual(amounts('0.0176', '5000', '1500', '4'));
  });

  it('groups by end user, key and project, and filters by each', async () => {
    const byIdentity = await report(fixture, {}, ['IDENTITY']);
    expect(byIdentity.rows.map((row: any) => [row.identity?.externalId ?? null, row.cost])).toEqual(
      expect.arrayContaining([
        ['alice', '0.011'],
        ['bob', '0.0033'],
        [null, '0.0033'],
      ]),
    );
    const byKey = await report(fixture, {}, ['API_KEY', 'PROJECT']);
    expect(byKey.rows.map((row: any) => [row.apiKey.id, row.project?.name ?? null, row.cost]).sort()).toEqual(
      [
        [fixture.plainKey.apiKeyId, null, '0.0077'],
        [fixture.projectKey.apiKeyId, 'Research', '0.0099'],
      ].sort(),
    );
    expect((await report(fixture, { models: [fixture.modelB] }, [])).total).toEqual(amounts('0.0132', '2000', '1000', '2'));
    expect((await report(fixture, { apiKeyIds: [fixture.projectKey.apiKeyId] }, [])).total.cost).toBe('0.0099');
    const alice = await app.data('query ($id: ID!) { node(id: $id) { ... on Workspace { identities(first: 10) { nodes { id externalId } } } } }', { id: fixture.workspaceId }, fixture.token);
    const aliceId = alice.node.identities.nodes.find((identity: any) => identity.externalId === 'alice').id;
    expect((await report(fixture, { identityIds: [aliceId] }, [])).total).toEqual(amounts('0.011', '2000', '1000', '2'));
    expect((await report(fixture, { workspaceId: fixture.workspaceId }, [])).total.cost).toBe('0.0176');
    const other = await createWorkspace(app, fixture.token);
    expect(await report(fixture, { workspaceId: other.workspaceId }, [])).toEqual({ rows: [], total: amounts('0', '0', '0', '0') });
  });

  it('counts exactly what lies in [from, to), also when the bounds cut hours', async () => {
    // 10:30–12:00: the 10:45 debit from the ledger, the 11:00 hour from the rollup.
    expect((await report(fixture, { from: '2026-03-02T10:30:00Z', to: '2026-03-02T12:00:00Z' }, [])).total).toEqual(amounts('0.0132', '3000', '1500', '2'));
    // Inside one hour, and ending on a debit's instant (excluded).
    expect((await report(fixture, { from: '2026-03-02T10:15:00Z', to: '2026-03-02T10:45:00Z' }, [])).total).toEqual(amounts('0.0011', '1000', '0', '1'));
    expect((await report(fixture, { from: '2026-03-02T10:15:00.001Z', to: '2026-03-03T09:00:00.001Z' }, [])).total.cost).toBe('0.0165');
  });

  it('keeps the hourly rollup equal to the ledger: model calls and metered extras', async () => {
    const [row] = await app.orm.em.fork().execute(
      `select (select coalesce(sum(-amount), 0) from transactions where type in ('DEDUCTION', 'METERED'))::text as ledger,
              (select coalesce(sum(cost), 0) from usage_hourly)::text as rollup,
              (select count(*) from transactions where type = 'DEDUCTION')::text as rows,
              (select coalesce(sum(requests), 0) from usage_hourly)::text as requests`,
    );
    expect(row.rollup).toBe(row.ledger);
    expect(row.requests).toBe(row.rows);
  });

  it('refuses bad ranges and other organizations with a clear error', async () => {
    const refusals: Array<[Record<string, unknown>, string]> = [
      [{ from: '2026-03-02T00:00:00Z', to: '2026-03-02T00:00:00Z' }, 'filter.from: `from` must be before `to`'],
      [{ from: '2025-01-01T00:00:00Z', to: '2026-03-02T00:00:00Z' }, 'filter.to: A report spans at most 366 days'],
    ];
    for (const [filter, message] of refusals) {
      const result = await app.gql(USAGE, { filter, groupBy: ['DAY'] }, fixture.token);
      expect(result.errors).toEqual([expect.objectContaining({ message, extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })]);
    }
    const stranger = await gatewaySetup(app, null);
    const foreign = await app.gql(USAGE, { filter: { organizationId: fixture.organizationId, from: '2026-03-01T00:00:00Z', to: '2026-03-04T00:00:00Z' }, groupBy: [] }, stranger.ownerToken);
    expect(codes(foreign)).toEqual(['BAD_USER_INPUT']);
    const admin = await app.data(USAGE, { filter: { organizationId: fixture.organizationId, from: '2026-03-01T00:00:00Z', to: '2026-03-04T00:00:00Z' }, groupBy: [] }, ADMIN_TOKEN);
    expect(admin.usage.total.cost).toBe('0.0176');
  });
});

describe('wallet.spendProjection', () => {
  const PROJECTION = `query ($id: ID!) { node(id: $id) { ... on Wallet {
    spendProjection {
      last7Days { days spend averageDailySpend depletesAt coveredByAutoTopUp }
      last30Days { days spend averageDailySpend depletesAt coveredByAutoTopUp }
    }
  } } }`;
  const projectionOf = async (walletId: string, token: string) => (await app.data(PROJECTION, { id: walletId }, token)).node.spendProjection;
  const DAY_MS = 86_400_000n;

  it('averages the spend of the last 7 and 30 days and projects when the available balance runs out', async () => {
    now = new Date('2026-04-01T10:00:00Z');
    const fixture = await gatewaySetup(app, '10');
    expect(await projectionOf(fixture.walletId, fixture.ownerToken)).toEqual({
      last7Days: { days: 7, spend: '0', averageDailySpend: '0', depletesAt: null, coveredByAutoTopUp: false },
      last30Days: { days: 30, spend: '0', averageDailySpend: '0', depletesAt: null, coveredByAutoTopUp: false },
    });
    // 0.0011 twenty days ago (only in the 30-day window), 0.0033 two days ago.
    now = new Date('2026-03-12T10:00:00Z');
    expect((await debit(app, fixture)).allowed).toBe(true);
    now = new Date('2026-03-30T10:00:00Z');
    expect((await debit(app, fixture, { inputTokens: 3000 })).allowed).toBe(true);
    now = new Date('2026-04-01T10:00:00Z');
    // By hand: 9.9956 left; 0.0033 / 7 = 0.000471428571… → 0.000471429, lasting 9.9956 × 7 / 0.0033
    // days (58 years); 0.0044 / 30 = 0.000146666… → 0.000146667, lasting 186 years: past the horizon.
    const lastsMs = (9_995_600_000n * 7n * DAY_MS) / 3_300_000n;
    expect(await projectionOf(fixture.walletId, fixture.ownerToken)).toEqual({
      last7Days: {
        days: 7,
        spend: '0.0033',
        averageDailySpend: '0.000471429',
        depletesAt: new Date(now.getTime() + Number(lastsMs)).toISOString(),
        coveredByAutoTopUp: false,
      },
      last30Days: { days: 30, spend: '0.0044', averageDailySpend: '0.000146667', depletesAt: null, coveredByAutoTopUp: false },
    });
  });

  it('projects within a day when the spend is above the balance, and now when nothing is left', async () => {
    now = new Date('2026-05-01T09:00:00Z');
    const low = await gatewaySetup(app, '0.0012');
    expect((await debit(app, low)).allowed).toBe(true);
    const empty = await gatewaySetup(app, '0.0011');
    expect((await debit(app, empty)).allowed).toBe(true);
    now = new Date('2026-05-01T10:00:00Z');
    const { last7Days } = await projectionOf(low.walletId, low.ownerToken);
    // 0.0001 left at 0.0011 a week: 0.0001 × 7 / 0.0011 days.
    expect(last7Days.depletesAt).toBe(new Date(now.getTime() + Number((100_000n * 7n * DAY_MS) / 1_100_000n)).toISOString());

    expect((await projectionOf(empty.walletId, empty.ownerToken)).last30Days.depletesAt).toBe(now.toISOString());
  });
});
