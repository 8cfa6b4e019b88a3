import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getNamedType, type GraphQLCompositeType, type GraphQLInterfaceType, type GraphQLSchema } from 'graphql';
import { type PaymentsServer, startPaymentsServer } from '../src/dev/payments-server';
import { ID_PREFIXES, type IdKind, idKind } from '../src/ids';
import { formatMoney, parseMoney } from '../src/money';
import { ADMIN_TOKEN, GATEWAY_TOKEN, type GraphQLResult, startTestApp, type TestApp } from './support/app';
import { createFreshDatabase, type FreshDatabase } from './support/database';
import {
  balanceOf,
  createMemberWithToken,
  createOrganization,
  createWorkspace,
  eventually,
  expectNoUserErrors,
  fund,
  MEMBER_CREATE,
  MEMBER_TOKEN_CREATE,
  PROJECT_CREATE,
  unique,
} from './support/fixtures';
import { AUTHORIZE, createApiKey, debit, requestKey, setModelPrice } from './support/gateway';
import { introspect, operationOf, pageArguments, selectEverything } from './support/introspection';
import { paymentsOptions, saveCard } from './support/payments';

/**
 * Every mutation of the schema, called the way a client would succeed with it, selecting every
 * field of its payload; then every kind of id through `node`, selecting every field of its
 * type. The operations come from the server's introspection, so a new mutation, type or field
 * is covered as soon as it exists (a new mutation needs its scenario below, or this fails).
 */

let stripe: PaymentsServer;
let database: FreshDatabase;
let app: TestApp;
let alertReceiver: Server;
let schema: GraphQLSchema;

beforeAll(async () => {
  stripe = await startPaymentsServer();
  // A database of its own: its jobs (auto top-ups charged through its payments server) must not
  // be taken by the workers of other files' servers, nor theirs by its own.
  database = await createFreshDatabase('every_operation');
  app = await startTestApp({
    databaseUrl: database.url,
    migrate: true,
    ...paymentsOptions(stripe),
    jobs: { timeoutSeconds: 10, pollingSeconds: 0.5, alertRelayMs: 100 },
  });
  alertReceiver = createServer((_request, response) => response.writeHead(204).end());
  alertReceiver.listen(0, '127.0.0.1');
  await once(alertReceiver, 'listening');
  schema = await introspect(app, ADMIN_TOKEN);
});

afterAll(async () => {
  alertReceiver?.close();
  await app?.close();
  await stripe?.close();
  await database?.drop();
});

/** An organization in use: an owner, an admin and a member with tokens, two workspaces (one funded), a priced model, a project, and a key and an end user that have spent; a saved card. */
async function world() {
  const org = await createOrganization(app);
  const admin = await createMemberWithToken(app, org.ownerToken, 'ADMIN');
  const member = await createMemberWithToken(app, org.ownerToken, 'MEMBER');
  const main = await createWorkspace(app, org.ownerToken);
  const other = await createWorkspace(app, org.ownerToken);
  await fund(app, main.walletId, '100');
  const { projectCreate } = await app.data(PROJECT_CREATE, { input: { workspaceId: main.workspaceId, name: unique('Project'), budget: { amount: '50', period: 'MONTHLY' } } }, org.ownerToken);
  expectNoUserErrors(projectCreate);
  const model = unique('model').replace(' ', '-');
  await setModelPrice(app, model);
  const key = await createApiKey(app, org.ownerToken, main.workspaceId, { projectId: projectCreate.project.id, budget: { amount: '20', period: 'MONTHLY' }, requestsPerMinute: 1000 });
  const externalId = unique('user').replace(' ', '-');
  expect(await debit(app, { ...key, model }, { identity: externalId })).toMatchObject({ allowed: true });
  await saveCard(app, stripe, org.ownerToken, 'pm_card_visa');
  return { ...org, admin, member, main, other, model, key, projectId: projectCreate.project.id as string, externalId };
}

type World = Awaited<ReturnType<typeof world>>;

interface Call {
  token: string;
  variables: Record<string, unknown>;
}

const THRESHOLD_SET = `mutation ($input: LowBalanceThresholdSetInput!) { lowBalanceThresholdSet(input: $input) { threshold { id } userErrors { code message } } }`;
const TAX_ID_ADD = `mutation ($input: TaxIdAddInput!) { taxIdAdd(input: $input) { taxId { id } userErrors { code message } } }`;
const WEBHOOK_SET = `mutation ($input: AlertWebhookSetInput!) { alertWebhookSet(input: $input) { userErrors { code message } } }`;

async function thresholdOf(w: World, amount: string): Promise<string> {
  const { lowBalanceThresholdSet } = await app.data(THRESHOLD_SET, { input: { walletId: w.main.walletId, amount } }, w.ownerToken);
  expectNoUserErrors(lowBalanceThresholdSet);
  return lowBalanceThresholdSet.threshold.id;
}

/** A new meter with 10 units included a month. */
async function meterOf(): Promise<string> {
  const name = unique('trace').replace(' ', '-');
  await app.data(`mutation ($input: MeterSetInput!) { meterSet(input: $input) { userErrors { code } } }`, { input: { name, unitPrice: '0.0005', includedPerMonth: 10 } }, ADMIN_TOKEN);
  return name;
}

async function holdOf(w: World): Promise<string> {
  const { gatewayAuthorize } = await app.data(
    AUTHORIZE,
    { input: { apiKey: w.key.secret, model: w.model, idempotencyKey: requestKey(), identity: w.externalId, maxInputTokens: 2000, maxOutputTokens: 1000 } },
    GATEWAY_TOKEN,
  );
  expect(gatewayAuthorize).toMatchObject({ allowed: true });
  return gatewayAuthorize.hold.id;
}

const debitInput = (w: World) => ({ apiKey: w.key.secret, idempotencyKey: requestKey(), model: w.model, identity: w.externalId, inputTokens: 1000, outputTokens: 500 });

/** How each mutation succeeds: who calls it and with what, after preparing what it needs. */
const SCENARIOS: Record<string, (w: World) => Promise<Call>> = {
  async alertAcknowledge(w) {
    // A gateway call of 2,000 input tokens ($0.002 before the markup) takes the balance below a threshold $0.001 under it.
    const thresholdId = await thresholdOf(w, formatMoney(parseMoney(await balanceOf(app, w.main.walletId)) - 1_000_000n));
    expect(await debit(app, { ...w.key, model: w.model }, { inputTokens: 2000 })).toMatchObject({ allowed: true });
    const alertId = await eventually(async () => {
      const { organization } = await app.data(`{ organization { alerts(first: 50) { nodes { id lowBalanceThreshold { id } } } } }`, {}, w.ownerToken);
      return organization.alerts.nodes.find((node: { lowBalanceThreshold: { id: string } | null }) => node.lowBalanceThreshold?.id === thresholdId)?.id as string | undefined;
    });
    return { token: w.member.token, variables: { input: { alertId } } };
  },
  lowBalanceThresholdSet: async (w) => ({ token: w.ownerToken, variables: { input: { walletId: w.main.walletId, amount: '10', recipientMemberIds: [w.ownerId, w.admin.memberId] } } }),
  lowBalanceThresholdRemove: async (w) => ({ token: w.ownerToken, variables: { input: { lowBalanceThresholdId: await thresholdOf(w, '5') } } }),
  alertWebhookSet: async (w) => ({ token: w.admin.token, variables: { input: { url: receiverUrl() } } }),
  async alertWebhookRemove(w) {
    expectNoUserErrors((await app.data(WEBHOOK_SET, { input: { url: receiverUrl() } }, w.ownerToken)).alertWebhookSet);
    return { token: w.ownerToken, variables: { input: {} } };
  },
  billingProfileUpdate: async (w) => ({
    token: w.ownerToken,
    variables: { input: { name: 'ACME GmbH', address: { line1: 'Hauptstraße 1', line2: 'Hinterhaus', city: 'Berlin', postalCode: '10115', state: 'BE', country: 'DE' } } },
  }),
  taxIdAdd: async (w) => ({ token: w.ownerToken, variables: { input: { country: 'DE', type: 'eu_vat', value: 'DE123456789' } } }),
  async taxIdRemove(w) {
    const { taxIdAdd } = await app.data(TAX_ID_ADD, { input: { country: 'DE', type: 'eu_vat', value: 'DE987654321' } }, w.ownerToken);
    expectNoUserErrors(taxIdAdd);
    return { token: w.ownerToken, variables: { input: { taxIdId: taxIdAdd.taxId.id } } };
  },
  gatewayDebit: async (w) => ({ token: GATEWAY_TOKEN, variables: { input: debitInput(w) } }),
  gatewayDebitBatch: async (w) => ({ token: GATEWAY_TOKEN, variables: { input: { debits: [debitInput(w), debitInput(w)] } } }),
  gatewayAuthorize: async (w) => ({
    token: GATEWAY_TOKEN,
    variables: { input: { apiKey: w.key.secret, idempotencyKey: requestKey(), model: w.model, identity: w.externalId, maxInputTokens: 1000, maxOutputTokens: 1000 } },
  }),
  gatewayCapture: async (w) => ({ token: GATEWAY_TOKEN, variables: { input: { holdId: await holdOf(w), inputTokens: 1500, outputTokens: 200 } } }),
  gatewayRelease: async (w) => ({ token: GATEWAY_TOKEN, variables: { input: { holdId: await holdOf(w) } } }),
  gatewayMeterReport: async (w) => ({
    token: GATEWAY_TOKEN,
    variables: { input: { apiKey: w.key.secret, meter: await meterOf(), quantity: 25, idempotencyKey: requestKey(), identity: w.externalId } },
  }),
  meterSet: async () => ({ token: ADMIN_TOKEN, variables: { input: { name: unique('trace').replace(' ', '-'), unitPrice: '0.0001', includedPerMonth: '100000' } } }),
  meterAllowanceSet: async (w) => ({ token: ADMIN_TOKEN, variables: { input: { workspaceId: w.main.workspaceId, meter: await meterOf(), includedPerMonth: 50 } } }),
  apiKeyCreate: async (w) => ({
    token: w.ownerToken,
    variables: {
      input: {
        workspaceId: w.main.workspaceId,
        name: unique('key'),
        projectId: w.projectId,
        budget: { amount: '10', period: 'WEEKLY' },
        tokenBudget: { amount: '1000000', period: 'WEEKLY' },
        requestsPerMinute: 600,
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      },
    },
  }),
  apiKeyUpdate: async (w) => ({ token: w.admin.token, variables: { input: { apiKeyId: w.key.apiKeyId, name: unique('key'), tokenBudget: { amount: '5000000', period: 'MONTHLY' } } } }),
  apiKeyRevoke: async (w) => ({ token: w.ownerToken, variables: { input: { apiKeyId: (await createApiKey(app, w.ownerToken, w.main.workspaceId)).apiKeyId } } }),
  identityUpsert: async (w) => ({ token: w.ownerToken, variables: { input: { workspaceId: w.main.workspaceId, externalId: w.externalId, budget: { amount: '25', period: 'MONTHLY' } } } }),
  memberCreate: async (w) => ({ token: w.ownerToken, variables: { input: { name: 'Vera Viewer', email: `${unique('vera').replace(' ', '-')}@example.com`, role: 'VIEWER' } } }),
  async memberRemove(w) {
    const { memberCreate } = await app.data(MEMBER_CREATE, { input: { name: 'Max Member', email: `${unique('max').replace(' ', '-')}@example.com`, role: 'MEMBER' } }, w.ownerToken);
    expectNoUserErrors(memberCreate);
    return { token: w.admin.token, variables: { input: { memberId: memberCreate.member.id } } };
  },
  memberTokenCreate: async (w) => ({ token: w.ownerToken, variables: { input: { memberId: w.member.memberId, name: 'CI' } } }),
  async memberTokenRevoke(w) {
    const { memberTokenCreate } = await app.data(MEMBER_TOKEN_CREATE, { input: { memberId: w.member.memberId, name: 'laptop' } }, w.ownerToken);
    expectNoUserErrors(memberTokenCreate);
    return { token: w.ownerToken, variables: { input: { accessTokenId: memberTokenCreate.token.id } } };
  },
  modelPriceSet: async () => ({ token: ADMIN_TOKEN, variables: { input: { model: unique('model').replace(' ', '-'), inputPricePerMillion: '3', outputPricePerMillion: '15' } } }),
  async modelPriceRemove() {
    const model = unique('model').replace(' ', '-');
    await setModelPrice(app, model);
    return { token: ADMIN_TOKEN, variables: { input: { model } } };
  },
  routingMarkupSet: async (w) => ({ token: ADMIN_TOKEN, variables: { input: { mode: 'AUTO', markupBasisPoints: 1200, workspaceId: w.main.workspaceId } } }),
  negotiatedPriceSet: async (w) => ({ token: ADMIN_TOKEN, variables: { input: { organizationId: w.organizationId, discountBasisPoints: 500 } } }),
  organizationCreditTermsSet: async (w) => ({ token: ADMIN_TOKEN, variables: { input: { organizationId: w.organizationId, creditLimit: '1000', netTermsDays: 45 } } }),
  organizationCreate: async () => ({ token: ADMIN_TOKEN, variables: { input: { name: unique('Org'), ownerName: 'Olga Owner', ownerEmail: 'olga@example.com' } } }),
  walletAdjust: async (w) => ({ token: ADMIN_TOKEN, variables: { input: { walletId: w.main.walletId, amount: '12.5', description: 'goodwill', idempotencyKey: requestKey() } } }),
  walletTransfer: async (w) => ({
    token: w.ownerToken,
    variables: { input: { fromWalletId: w.main.walletId, toWalletId: w.other.walletId, amount: '5', description: 'for research', idempotencyKey: requestKey() } },
  }),
  purchaseCreate: async (w) => ({ token: w.ownerToken, variables: { input: { workspaceId: w.main.workspaceId, amount: '50', idempotencyKey: requestKey() } } }),
  paymentMethodSetupStart: async (w) => ({ token: w.admin.token, variables: { input: {} } }),
  paymentMethodSetDefault: async (w) => ({ token: w.ownerToken, variables: { input: { paymentMethodId: await saveCard(app, stripe, w.ownerToken, 'pm_card_mastercard') } } }),
  paymentMethodRemove: async (w) => ({ token: w.ownerToken, variables: { input: { paymentMethodId: await saveCard(app, stripe, w.ownerToken, 'pm_card_visa') } } }),
  autoTopUpUpdate: async (w) => ({ token: w.ownerToken, variables: { input: { walletId: w.main.walletId, enabled: true, threshold: '1', amount: '20' } } }),
  workspaceCreate: async (w) => ({ token: w.ownerToken, variables: { input: { name: unique('Workspace') } } }),
  workspaceUpdate: async (w) => ({ token: ADMIN_TOKEN, variables: { input: { workspaceId: w.main.workspaceId, name: unique('Workspace'), markupBasisPoints: 1500 } } }),
  projectCreate: async (w) => ({ token: w.ownerToken, variables: { input: { workspaceId: w.main.workspaceId, name: unique('Project'), budget: { amount: '80', period: 'WEEKLY' } } } }),
  projectUpdate: async (w) => ({ token: w.admin.token, variables: { input: { projectId: w.projectId, name: unique('Project'), budget: { amount: '90', period: 'DAILY' } } } }),
};

function receiverUrl(): string {
  return `http://127.0.0.1:${(alertReceiver.address() as AddressInfo).port}/alerts`;
}

/** Fields whose arguments a query must give, filled from the world. */
const argumentsOf = (w: World) => pageArguments({ 'Workspace.identity': `(externalId: ${JSON.stringify(w.externalId)})` });

/** What in an answer says that the call did not succeed: top-level errors, userErrors, a gateway refusal. */
function failuresIn(result: GraphQLResult): unknown[] {
  const found: unknown[] = [...(result.errors ?? [])];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (value === null || typeof value !== 'object') return;
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'userErrors' && Array.isArray(inner) && inner.length > 0) found.push({ userErrors: inner });
      else if (key === 'allowed' && inner === false) found.push({ denial: (value as { denial: unknown }).denial });
      else visit(inner);
    }
  };
  visit(result.data);
  if (result.status !== 200) found.push({ status: result.status });
  return found;
}

/** Every id in an answer, by kind. */
function collectIds(value: unknown, into: Map<IdKind, Set<string>>): void {
  if (Array.isArray(value)) return value.forEach((inner) => collectIds(inner, into));
  if (typeof value === 'string') {
    const kind = idKind(value);
    if (kind) into.set(kind, (into.get(kind) ?? new Set()).add(value));
  } else if (value !== null && typeof value === 'object') {
    Object.values(value).forEach((inner) => collectIds(inner, into));
  }
}

describe('every operation, generated from introspection', () => {
  let w: World;
  const idsSeen = new Map<IdKind, Set<string>>();

  beforeAll(async () => {
    w = await world();
  });

  it('has a scenario for each mutation of the schema, and none for a mutation that does not exist', () => {
    const mutations = Object.keys(schema.getMutationType()!.getFields()).sort();
    expect(Object.keys(SCENARIOS).sort()).toEqual(mutations);
  });

  it('calls every mutation successfully, selecting every field of its payload', async () => {
    const failures: Record<string, unknown> = {};
    for (const field of Object.values(schema.getMutationType()!.getFields())) {
      const scenario = SCENARIOS[field.name];
      if (!scenario) continue;
      const { token, variables } = await scenario(w);
      const selection = selectEverything(schema, getNamedType(field.type) as GraphQLCompositeType, argumentsOf(w));
      const result = await app.gql(operationOf('mutation', field, selection), variables, token);
      const found = failuresIn(result);
      if (found.length > 0) failures[field.name] = found;
      collectIds(result.data, idsSeen);
    }
    expect(failures).toEqual({});
  });

  const nodeTypesRead = new Set<string>();

  /** What goes wrong reading `id` through node() as the owner, selecting every field of its type; null when the owner cannot see it. */
  async function readNode(id: string): Promise<unknown[] | null> {
    const typed = await app.gql(`query ($id: ID!) { node(id: $id) { __typename } }`, { id }, w.ownerToken);
    if (failuresIn(typed).length > 0) return failuresIn(typed);
    const typeName = typed.data.node?.__typename;
    if (!typeName) return null;
    nodeTypesRead.add(typeName);
    const selection = selectEverything(schema, schema.getType(typeName) as GraphQLCompositeType, argumentsOf(w));
    const result = await app.gql(operationOf('query', schema.getQueryType()!.getFields().node, `{ ... on ${typeName} ${selection} }`), { id }, w.ownerToken);
    const found = failuresIn(result);
    if (found.length === 0 && result.data.node.id !== id) found.push({ answeredId: result.data.node.id });
    return found;
  }

  it("resolves node(id:) for every kind of id, as the owner, selecting every field of the object's type", async () => {
    const failures: Record<string, unknown> = {};
    for (const kind of Object.keys(ID_PREFIXES) as IdKind[]) {
      // The ids seen include other organizations' (organizationCreate's): the first the owner can see is read.
      let outcome: unknown[] | null = null;
      for (const id of idsSeen.get(kind) ?? []) {
        outcome = await readNode(id);
        if (outcome) {
          if (outcome.length > 0) failures[id] = outcome;
          break;
        }
      }
      if (!outcome) failures[kind] = "no id of this kind in the mutations' answers is the owner's";
    }
    expect(failures).toEqual({});
    // Every type implementing Node is reached by the id of some kind.
    const nodeTypes = schema.getPossibleTypes(schema.getType('Node') as GraphQLInterfaceType).map((type) => type.name);
    expect([...nodeTypesRead].sort()).toEqual(nodeTypes.sort());
  });
});
