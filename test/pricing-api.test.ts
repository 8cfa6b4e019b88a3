import { ADMIN_TOKEN, GATEWAY_TOKEN, useTestApp } from './support/app';
import { unique } from './support/fixtures';
import { authorize, debit, gatewaySetup, setModelPrice, walletState } from './support/gateway';

/** The server's clock, moved by the tests: negotiated terms take effect at their time. */
let now = new Date('2026-06-01T12:00:00.000Z');
const app = useTestApp({ clock: () => now });

/** $3 / $15 per 1M input / output tokens; cached input $0.30, cache writes $3.75, reasoning $15 per 1M; $0.001 a call; $0.04 an image. */
const FULL_PRICE = {
  inputPricePerMillion: '3',
  outputPricePerMillion: '15',
  cachedInputPricePerMillion: '0.3',
  cacheWritePricePerMillion: '3.75',
  reasoningPricePerMillion: '15',
  pricePerRequest: '0.001',
  pricePerImage: '0.04',
};

const TRANSACTION = `query ($id: ID!) { node(id: $id) { ... on Transaction { amount providerCost markup providerReported routingMode
  inputTokens outputTokens cachedInputTokens cacheWriteTokens reasoningTokens images } } }`;

/** A funded workspace whose key debits a model with every price component. */
async function fullyPriced(funds = '10') {
  const fixture = await gatewaySetup(app, funds);
  const model = unique('full').replace(' ', '-');
  await setModelPrice(app, model, FULL_PRICE);
  return { ...fixture, model };
}

async function transaction(id: string) {
  return (await app.data(TRANSACTION, { id }, ADMIN_TOKEN)).node;
}

async function setRoutingMarkup(input: Record<string, unknown>) {
  const { routingMarkupSet } = await app.data(
    `mutation ($input: RoutingMarkupSetInput!) { routingMarkupSet(input: $input) { routingMarkups { mode markupBasisPoints overridden } userErrors { code field message } } }`,
    { input },
    ADMIN_TOKEN,
  );
  return routingMarkupSet;
}

async function setNegotiatedPrice(input: Record<string, unknown>) {
  const { negotiatedPriceSet } = await app.data(
    `mutation ($input: NegotiatedPriceSetInput!) { negotiatedPriceSet(input: $input) {
       negotiatedPrice { id model discountBasisPoints price { inputPricePerMillion pricePerRequest } ended effectiveFrom }
       userErrors { code field message } } }`,
    { input },
    ADMIN_TOKEN,
  );
  return negotiatedPriceSet;
}

describe('the price of a model', () => {
  it('has every component, shown as it was set', async () => {
    const model = unique('priced').replace(' ', '-');
    await setModelPrice(app, model, FULL_PRICE);
    const { modelPrices } = await app.data(
      `query ($models: [String!]) { modelPrices(first: 1, models: $models) { nodes { model inputPricePerMillion outputPricePerMillion
         cachedInputPricePerMillion cacheWritePricePerMillion reasoningPricePerMillion pricePerRequest pricePerImage } } }`,
      { models: [model] },
      ADMIN_TOKEN,
    );
    expect(modelPrices.nodes).toEqual([{ model, ...FULL_PRICE }]);
  });

  it('refuses a negative component, naming it', async () => {
    const { modelPriceSet } = await app.data(
      `mutation ($input: ModelPriceSetInput!) { modelPriceSet(input: $input) { userErrors { code field } } }`,
      { input: { model: unique('bad'), inputPricePerMillion: '1', outputPricePerMillion: '1', pricePerImage: '-1' } },
      ADMIN_TOKEN,
    );
    expect(modelPriceSet.userErrors).toEqual([{ code: 'INVALID', field: ['input', 'pricePerImage'] }]);
  });
});

describe('a debit', () => {
  it('is charged for every component it reports, with the markup of its routing mode; its row shows the provider cost and the markup apart', async () => {
    const fixture = await fullyPriced();
    const answer = await debit(app, fixture, {
      routingMode: 'AUTO',
      inputTokens: 1000,
      outputTokens: 500,
      cachedInputTokens: 4000,
      cacheWriteTokens: 800,
      reasoningTokens: 100,
      images: 1,
    });
    // 3,000,000 + 7,500,000 + 1,200,000 + 3,000,000 + 1,500,000 + 1,000,000 + 40,000,000 = 57,200,000 nano-USD; AUTO +10%.
    expect(answer).toMatchObject({ allowed: true, cost: '0.06292' });
    expect(await transaction(answer.transactionId)).toEqual({
      amount: '-0.06292',
      providerCost: '0.0572',
      markup: '0.00572',
      providerReported: false,
      routingMode: 'AUTO',
      inputTokens: '1000',
      outputTokens: '500',
      cachedInputTokens: '4000',
      cacheWriteTokens: '800',
      reasoningTokens: '100',
      images: '1',
    });
    const { usage } = await app.data(
      `query ($filter: UsageFilterInput!) { usage(filter: $filter, groupBy: []) { total { cost providerCost markup } } }`,
      { filter: { workspaceId: fixture.workspaceId, from: '2026-06-01T00:00:00Z', to: '2026-06-02T00:00:00Z' } },
      fixture.ownerToken,
    );
    expect(usage.total).toEqual({ cost: '0.06292', providerCost: '0.0572', markup: '0.00572' });
  });

  it("may carry the provider's own cost instead: the markup applies, limits count it, the row says so", async () => {
    const fixture = await gatewaySetup(app, '1', { budget: { amount: '0.002200001', period: 'DAILY' } });
    // 2,000,001 nano-USD + 10% (the workspace's DIRECT markup) = 2,200,001.1: 2,200,001.
    const answer = await debit(app, fixture, { providerCost: '0.002000001', inputTokens: 10, outputTokens: 10 });
    expect(answer).toMatchObject({ allowed: true, cost: '0.002200001', limits: { costRemaining: '0' } });
    expect(await transaction(answer.transactionId)).toMatchObject({ providerCost: '0.002000001', markup: '0.0002', providerReported: true, routingMode: 'DIRECT' });
    expect((await debit(app, fixture, { providerCost: '0.000000001' })).denial.code).toBe('KEY_COST_LIMIT_REACHED');
  });

  it('with images on a model without an image price is refused, and changes nothing', async () => {
    const fixture = await gatewaySetup(app, '1');
    const before = await walletState(app, fixture.walletId);
    expect((await debit(app, fixture, { images: 1 })).denial).toMatchObject({ code: 'UNPRICED_USAGE', httpStatus: 400 });
    expect(await walletState(app, fixture.walletId)).toEqual(before);
  });

  it('with a negative provider cost is a malformed request', async () => {
    const fixture = await gatewaySetup(app, '1');
    const response = await app.gql(
      `mutation ($input: GatewayDebitInput!) { gatewayDebit(input: $input) { allowed } }`,
      { input: { apiKey: fixture.secret, model: fixture.model, idempotencyKey: unique('k'), inputTokens: 1, outputTokens: 1, providerCost: '-0.01' } },
      GATEWAY_TOKEN,
    );
    expect(response.errors![0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('an authorization', () => {
  it("holds the dearer of its maxima at the price and its maximum provider cost; the capture bills the provider's cost with the markup", async () => {
    const fixture = await fullyPriced();
    // Maxima: 3,000,000 + 1,000,000 + 10% = 4,400,000; the provider's maximum: 10,000,000 + 10% = 11,000,000.
    const held = await authorize(app, fixture, { maxInputTokens: 1000, maxProviderCost: '0.01' });
    expect(held).toMatchObject({ allowed: true, hold: { amount: '0.011' } });
    const { gatewayCapture } = await app.data(
      `mutation ($input: GatewayCaptureInput!) { gatewayCapture(input: $input) { allowed cost charged transaction { providerCost markup providerReported } } }`,
      { input: { holdId: held.hold.id, inputTokens: 800, outputTokens: 0, providerCost: '0.005' } },
      GATEWAY_TOKEN,
    );
    expect(gatewayCapture).toEqual({ allowed: true, cost: '0.0055', charged: '0.0055', transaction: { providerCost: '0.005', markup: '0.0005', providerReported: true } });
    expect(await walletState(app, fixture.walletId)).toMatchObject({ balance: 9_994_500_000n, held: 0n });
  });
});

describe('routing modes', () => {
  it("have the operator's markup unless a workspace has its own; DIRECT has the workspace's", async () => {
    const fixture = await fullyPriced();
    const calls = (routingMode: string) => debit(app, fixture, { routingMode, inputTokens: 1000 });
    // 1,000 input tokens and the fee: 4,000,000 nano-USD before the markup.
    expect((await calls('TIER')).cost).toBe('0.00432');
    expect((await calls('DIRECT')).cost).toBe('0.0044');
    try {
      expect((await setRoutingMarkup({ mode: 'TIER', markupBasisPoints: 500 })).routingMarkups).toEqual([
        { mode: 'AUTO', markupBasisPoints: 1000, overridden: false },
        { mode: 'TIER', markupBasisPoints: 500, overridden: false },
      ]);
      expect((await calls('TIER')).cost).toBe('0.0042');
      expect((await setRoutingMarkup({ mode: 'AUTO', markupBasisPoints: 0, workspaceId: fixture.workspaceId })).userErrors).toEqual([]);
      expect((await calls('AUTO')).cost).toBe('0.004');
      const { node } = await app.data(
        `query ($id: ID!) { node(id: $id) { ... on Workspace { routingMarkups { mode markupBasisPoints overridden } } } }`,
        { id: fixture.workspaceId },
        fixture.ownerToken,
      );
      expect(node.routingMarkups).toEqual([
        { mode: 'DIRECT', markupBasisPoints: 1000, overridden: true },
        { mode: 'AUTO', markupBasisPoints: 0, overridden: true },
        { mode: 'TIER', markupBasisPoints: 500, overridden: false },
      ]);
      await setRoutingMarkup({ mode: 'AUTO', markupBasisPoints: null, workspaceId: fixture.workspaceId });
      expect((await calls('AUTO')).cost).toBe('0.0044');
    } finally {
      await setRoutingMarkup({ mode: 'TIER', markupBasisPoints: 800 });
    }
  });

  it("refuse what is not the operator's to set there, clearly", async () => {
    expect((await setRoutingMarkup({ mode: 'DIRECT', markupBasisPoints: 0 })).userErrors).toEqual([
      expect.objectContaining({ code: 'INVALID', field: ['input', 'mode'] }),
    ]);
    expect((await setRoutingMarkup({ mode: 'AUTO', markupBasisPoints: null })).userErrors).toEqual([
      expect.objectContaining({ code: 'INVALID', field: ['input', 'markupBasisPoints'] }),
    ]);
    expect((await setRoutingMarkup({ mode: 'AUTO', markupBasisPoints: 100_001 })).userErrors).toEqual([
      expect.objectContaining({ code: 'INVALID', field: ['input', 'markupBasisPoints'] }),
    ]);
    const { ownerToken } = await gatewaySetup(app, null);
    const refused = await app.gql(`mutation { routingMarkupSet(input: { mode: AUTO, markupBasisPoints: 0 }) { userErrors { code } } }`, {}, ownerToken);
    expect(refused.errors![0].extensions?.code).toBe('FORBIDDEN');
  });
});

describe('negotiated prices', () => {
  it('apply from their time, the most specific first, and are kept as a history', async () => {
    now = new Date('2026-06-01T12:00:00.000Z');
    const fixture = await fullyPriced();
    const cost = async () => (await debit(app, fixture, { inputTokens: 1000 })).cost;
    expect(await cost()).toBe('0.0044');

    // 20% off every model: 4,000,000 × 0.8 = 3,200,000; +10%.
    expect((await setNegotiatedPrice({ organizationId: fixture.organizationId, discountBasisPoints: 2000 })).userErrors).toEqual([]);
    expect(await cost()).toBe('0.00352');

    // A fixed price of this model: $1 per 1M input, no fee: 1,000,000 + 10%.
    const fixed = await setNegotiatedPrice({ organizationId: fixture.organizationId, model: fixture.model, price: { inputPricePerMillion: '1', outputPricePerMillion: '1' } });
    expect(fixed.negotiatedPrice).toMatchObject({ model: fixture.model, discountBasisPoints: null, price: { inputPricePerMillion: '1', pricePerRequest: null }, ended: false });
    expect(await cost()).toBe('0.0011');

    // Its end, an hour from now: then the organization's discount again.
    const ends = await setNegotiatedPrice({ organizationId: fixture.organizationId, model: fixture.model, effectiveFrom: '2026-06-01T13:00:00.000Z' });
    expect(ends.negotiatedPrice).toMatchObject({ ended: true, effectiveFrom: '2026-06-01T13:00:00.000Z' });
    expect(await cost()).toBe('0.0011');
    now = new Date('2026-06-01T13:00:00.000Z');
    expect(await cost()).toBe('0.00352');

    // A provider-reported cost is the provider's: no discount.
    expect((await debit(app, fixture, { providerCost: '0.001' })).cost).toBe('0.0011');

    const { node } = await app.data(
      `query ($id: ID!) { node(id: $id) { ... on Organization { negotiatedPrices { model discountBasisPoints ended effectiveFrom } } } }`,
      { id: fixture.organizationId },
      fixture.ownerToken,
    );
    expect(node.negotiatedPrices).toEqual([
      { model: fixture.model, discountBasisPoints: null, ended: true, effectiveFrom: '2026-06-01T13:00:00.000Z' },
      { model: fixture.model, discountBasisPoints: null, ended: false, effectiveFrom: '2026-06-01T12:00:00.000Z' },
      { model: null, discountBasisPoints: 2000, ended: false, effectiveFrom: '2026-06-01T12:00:00.000Z' },
    ]);
  });

  it('never reprice the past, and are the platform admin’s to set', async () => {
    const fixture = await gatewaySetup(app, null);
    expect((await setNegotiatedPrice({ organizationId: fixture.organizationId, discountBasisPoints: 100, effectiveFrom: new Date(now.getTime() - 1).toISOString() })).userErrors).toEqual([
      expect.objectContaining({ code: 'INVALID', field: ['input', 'effectiveFrom'] }),
    ]);
    expect((await setNegotiatedPrice({ organizationId: fixture.organizationId, price: { inputPricePerMillion: '1', outputPricePerMillion: '1' } })).userErrors).toEqual([
      expect.objectContaining({ code: 'INVALID', field: ['input', 'model'] }),
    ]);
    expect((await setNegotiatedPrice({ organizationId: fixture.organizationId, discountBasisPoints: 10_001 })).userErrors).toEqual([
      expect.objectContaining({ code: 'INVALID', field: ['input', 'discountBasisPoints'] }),
    ]);
    const refused = await app.gql(
      `mutation ($input: NegotiatedPriceSetInput!) { negotiatedPriceSet(input: $input) { userErrors { code } } }`,
      { input: { organizationId: fixture.organizationId, discountBasisPoints: 5000 } },
      fixture.ownerToken,
    );
    expect(refused.errors![0].extensions?.code).toBe('FORBIDDEN');
  });
});
