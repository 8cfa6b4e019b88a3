import { ADMIN_TOKEN, GATEWAY_TOKEN, useTestApp } from './support/app';
import { codes, createMemberWithToken, createOrganization, unique } from './support/fixtures';
import type { TestClock } from './support/usage';

const clock: TestClock = { now: new Date('2026-03-18T12:00:00.000Z') };
const app = useTestApp({ clock: () => clock.now });

const SET = `mutation ($input: ModelPriceSetInput!) {
  modelPriceSet(input: $input) {
    modelPrice { model inputPricePerMillion outputPricePerMillion updatedAt }
    userErrors { field code message }
  }
}`;
const REMOVE = `mutation ($input: ModelPriceRemoveInput!) {
  modelPriceRemove(input: $input) { modelPrice { model inputPricePerMillion outputPricePerMillion } userErrors { field code message } }
}`;
const LIST = `query ($models: [String!], $first: Int, $after: String, $last: Int, $before: String) {
  modelPrices(models: $models, first: $first, after: $after, last: $last, before: $before) {
    nodes { model inputPricePerMillion outputPricePerMillion updatedAt }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

/** A model id no other test uses: the catalog is shared by the whole run. */
function modelId(label: string): string {
  return unique(label).replace(' ', '-');
}

async function priceRows(model: string) {
  return app.orm.em.fork().execute('select model, input_price, output_price from model_prices where model = ?', [model]);
}

async function listed(token: string, models: string[]) {
  const { modelPrices } = await app.data(LIST, { models }, token);
  return modelPrices.nodes;
}

describe('the model price catalog', () => {
  it('adds a model, then changes its price; stored as nano-USD per 1M tokens', async () => {
    const model = modelId('gpt-test');
    clock.now = new Date('2026-03-18T12:00:00.000Z');
    const { modelPriceSet } = await app.data(SET, { input: { model, inputPricePerMillion: '2.50', outputPricePerMillion: '10' } }, ADMIN_TOKEN);
    expect(modelPriceSet).toEqual({
      modelPrice: { model, inputPricePerMillion: '2.5', outputPricePerMillion: '10', updatedAt: '2026-03-18T12:00:00.000Z' },
      userErrors: [],
    });
    expect(await priceRows(model)).toEqual([{ model, input_price: '2500000000', output_price: '10000000000' }]);

    clock.now = new Date('2026-03-19T08:30:00.000Z');
    const changed = await app.data(SET, { input: { model, inputPricePerMillion: '0.000001', outputPricePerMillion: '0' } }, ADMIN_TOKEN);
    expect(changed.modelPriceSet.modelPrice).toEqual({
      model,
      inputPricePerMillion: '0.000001',
      outputPricePerMillion: '0',
      updatedAt: '2026-03-19T08:30:00.000Z',
    });
    expect(await priceRows(model)).toEqual([{ model, input_price: '1000', output_price: '0' }]);
  });

  it('lists the catalog by model id to every member and the platform admin', async () => {
    const [a, b] = [modelId('b-model'), modelId('a-model')];
    for (const model of [a, b]) {
      await app.data(SET, { input: { model, inputPricePerMillion: '1', outputPricePerMillion: '2' } }, ADMIN_TOKEN);
    }
    const org = await createOrganization(app);
    const viewer = await createMemberWithToken(app, org.ownerToken, 'VIEWER');
    for (const token of [ADMIN_TOKEN, org.ownerToken, viewer.token]) {
      expect((await listed(token, [a, b])).map((price: { model: string }) => price.model)).toEqual([b, a]);
    }
    const { modelPrices } = await app.data(LIST, { first: 100 }, viewer.token);
    const models = modelPrices.nodes.map((price: { model: string }) => price.model);
    expect(models).toEqual([...models].sort());
  });

  it('pages the catalog by model id with first/after and last/before', async () => {
    const models = ['c', 'a', 'b/x', 'a-1'].map((label) => modelId(`paged-${label}`));
    for (const model of models) await app.data(SET, { input: { model, inputPricePerMillion: '1', outputPricePerMillion: '2' } }, ADMIN_TOKEN);
    const sorted = [...models].sort();
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: { nodes: Array<{ model: string }>; pageInfo: { hasNextPage: boolean; endCursor: string } } = (
        await app.data(LIST, { models, first: 3, after }, ADMIN_TOKEN)
      ).modelPrices;
      seen.push(...page.nodes.map((price) => price.model));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(sorted);
    const { modelPrices: last } = await app.data(LIST, { models, last: 2 }, ADMIN_TOKEN);
    expect(last.nodes.map((price: { model: string }) => price.model)).toEqual(sorted.slice(2));
    expect(last.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    const { modelPrices: before } = await app.data(LIST, { models, last: 2, before: last.pageInfo.startCursor }, ADMIN_TOKEN);
    expect(before.nodes.map((price: { model: string }) => price.model)).toEqual(sorted.slice(0, 2));
    const wrong = await app.gql(LIST, { after: 'bm90IGEgY3Vyc29y' }, ADMIN_TOKEN);
    expect(wrong.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('removes a model, and answers NOT_FOUND for a model not in the catalog', async () => {
    const model = modelId('retired');
    await app.data(SET, { input: { model, inputPricePerMillion: '3', outputPricePerMillion: '15' } }, ADMIN_TOKEN);
    const { modelPriceRemove } = await app.data(REMOVE, { input: { model } }, ADMIN_TOKEN);
    expect(modelPriceRemove).toEqual({ modelPrice: { model, inputPricePerMillion: '3', outputPricePerMillion: '15' }, userErrors: [] });
    expect(await priceRows(model)).toEqual([]);
    expect(await listed(ADMIN_TOKEN, [model])).toEqual([]);
    const again = await app.data(REMOVE, { input: { model } }, ADMIN_TOKEN);
    expect(again.modelPriceRemove).toEqual({
      modelPrice: null,
      userErrors: [{ field: ['input', 'model'], code: 'NOT_FOUND', message: 'No price for this model' }],
    });
  });

  it('refuses an empty or overlong model id and negative prices with INVALID', async () => {
    const model = modelId('valid');
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ model: '' }, 'model'],
      [{ model: '   ' }, 'model'],
      [{ model: 'm'.repeat(201) }, 'model'],
      [{ inputPricePerMillion: '-1' }, 'inputPricePerMillion'],
      [{ outputPricePerMillion: '-0.000000001' }, 'outputPricePerMillion'],
    ];
    for (const [input, field] of cases) {
      const { modelPriceSet } = await app.data(SET, { input: { model, inputPricePerMillion: '1', outputPricePerMillion: '1', ...input } }, ADMIN_TOKEN);
      expect({ input, payload: modelPriceSet }).toEqual({
        input,
        payload: { modelPrice: null, userErrors: [{ field: ['input', field], code: 'INVALID', message: expect.stringContaining(field) }] },
      });
    }
    expect(await priceRows(model)).toEqual([]);
    const longest = 'm'.repeat(200);
    const ok = await app.data(SET, { input: { model: longest, inputPricePerMillion: '1', outputPricePerMillion: '1' } }, ADMIN_TOKEN);
    expect(ok.modelPriceSet.userErrors).toEqual([]);
    expect(codes(await app.gql(SET, { input: { model, inputPricePerMillion: 1, outputPricePerMillion: '1' } }, ADMIN_TOKEN))).toEqual([
      'BAD_USER_INPUT',
    ]);
  });

  it('lets only the platform admin change the catalog', async () => {
    const model = modelId('guarded');
    const org = await createOrganization(app);
    const admin = await createMemberWithToken(app, org.ownerToken, 'ADMIN');
    for (const token of [org.ownerToken, admin.token, GATEWAY_TOKEN]) {
      const set = await app.gql(SET, { input: { model, inputPricePerMillion: '1', outputPricePerMillion: '1' } }, token);
      expect({ codes: codes(set), status: set.status, data: set.data }).toEqual({ codes: ['FORBIDDEN'], status: 403, data: null });
      expect(codes(await app.gql(REMOVE, { input: { model } }, token))).toEqual(['FORBIDDEN']);
    }
    expect(codes(await app.gql(SET, { input: { model, inputPricePerMillion: '1', outputPricePerMillion: '1' } }))).toEqual(['UNAUTHENTICATED']);
    expect(await priceRows(model)).toEqual([]);
    // Reading: members and the admin; not the gateway, not without a token.
    expect(codes(await app.gql(LIST, {}, GATEWAY_TOKEN))).toEqual(['FORBIDDEN']);
    expect(codes(await app.gql(LIST, {}))).toEqual(['UNAUTHENTICATED']);
  });
});
