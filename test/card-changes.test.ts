import { MikroORM } from '@mikro-orm/postgresql';
import type Stripe from 'stripe';
import { ormConfig } from '../mikro-orm.config';
import { DEFAULT_SECRET_KEY, type PaymentsServer, startPaymentsServer } from '../src/dev/payments-server';
import { createStripe } from '../src/payments/stripe';
import { type GraphQLClient, graphqlClient, startTestApp, type TestApp } from './support/app';
import { onFreshDatabase } from './support/database';
import { createOrganization, eventually, type OrgFixture } from './support/fixtures';
import { sendWebhook, WEBHOOK_SECRET } from './support/payments';
import { freePort, type ServerProcess, spawnServer } from './support/process';

/**
 * Card changes of one organization sent at once to two tollgate processes (this one and a child
 * process), which call the suite's Stripe-shaped server with the real SDK; its events come to this
 * one, as Stripe's come to one endpoint.
 */
let payments: PaymentsServer;
let app: TestApp;
let other: ServerProcess;
/** The real SDK, for what happens in Stripe itself (a card detached from Stripe's dashboard). */
let stripeSdk: Stripe;
const webhookLines: string[] = [];

beforeAll(async () => {
  // tollgate is told where the payments server will be, the payments server where tollgate is.
  const port = await freePort();
  const stripeConfig = { STRIPE_SECRET_KEY: DEFAULT_SECRET_KEY, STRIPE_API_BASE: `http://127.0.0.1:${port}` };
  app = await startTestApp({ stripe: createStripe(stripeConfig), stripeWebhookSecret: WEBHOOK_SECRET });
  payments = await startPaymentsServer({
    port,
    webhook: { url: `${app.server.url}/webhooks/stripe`, secret: WEBHOOK_SECRET },
    log: (line) => line.startsWith('Webhook ') && webhookLines.push(line),
  });
  other = await spawnServer({ STRIPE_SECRET_KEY: DEFAULT_SECRET_KEY, STRIPE_API_BASE: payments.url, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET });
  stripeSdk = createStripe(stripeConfig)!;
}, 60_000);

afterAll(async () => {
  other?.process.kill('SIGKILL');
  await app?.close();
  await payments?.close();
});

const SETUP = `mutation { paymentMethodSetupStart(input: {}) { clientSecret userErrors { code } } }`;
const CARDS = `{ organization { paymentMethods { id isDefault } } }`;
const SET_DEFAULT = `mutation ($input: PaymentMethodSetDefaultInput!) { paymentMethodSetDefault(input: $input) { paymentMethod { id isDefault } userErrors { code } } }`;
const REMOVE = `mutation ($input: PaymentMethodRemoveInput!) { paymentMethodRemove(input: $input) { removedId userErrors { code } } }`;

/** The dashboard's card form confirmed with a test card; Stripe's event brings the card to tollgate. The SetupIntent. */
async function saveCard(org: OrgFixture, testCard: string): Promise<Record<string, any>> {
  const { paymentMethodSetupStart } = await app.data(SETUP, {}, org.ownerToken);
  expect(paymentMethodSetupStart.userErrors).toEqual([]);
  const { object, delivery } = await payments.confirmSetup(paymentMethodSetupStart.clientSecret, testCard);
  expect(delivery?.status).toBe(200);
  return object;
}

const cardsOf = async (org: OrgFixture) => (await app.data(CARDS, {}, org.ownerToken)).organization.paymentMethods as Array<{ id: string; isDefault: boolean }>;

const stripeCustomerOf = (org: OrgFixture) => [...payments.customers.values()].find((customer) => customer.metadata.organization_id === org.organizationId)!;
const stripeDefaultOf = (org: OrgFixture) => stripeCustomerOf(org).invoice_settings.default_payment_method as string | null;

/** Stripe's payment_method.detached events of these cards have been answered (by whichever of the removal and the event came first). */
const detachedEventsAnswered = (cards: string[]) =>
  eventually(async () => cards.every((card) => webhookLines.some((line) => line.startsWith('Webhook payment_method.detached: ') && line.includes(`(${card})`))));

/** tollgate's cards and Stripe's customer default, once the events of the removed cards are in. */
async function settledState(org: OrgFixture, removed: string[]) {
  await detachedEventsAnswered(removed);
  const cards = await cardsOf(org);
  return { ids: cards.map((card) => card.id).sort(), defaults: cards.filter((card) => card.isDefault).map((card) => card.id), stripeDefault: stripeDefaultOf(org) };
}

type Call = { mutation: 'setDefault' | 'remove'; card: string };

async function send(servers: GraphQLClient[], org: OrgFixture, calls: Call[], shift: number) {
  return Promise.all(
    calls.map(async (call, index) => {
      const server = servers[(index + shift) % servers.length];
      const result = await server.gql(call.mutation === 'remove' ? REMOVE : SET_DEFAULT, { input: { paymentMethodId: call.card } }, org.ownerToken);
      return { call, result };
    }),
  );
}

const ROUNDS = 20;

describe('card changes at the same moment', () => {
  it(`${ROUNDS} rounds of 16 paymentMethodSetDefault / paymentMethodRemove calls over two processes: no error, one default while cards remain, Stripe agreeing`, async () => {
    const org = await createOrganization(app);
    const servers = [app, graphqlClient(other.url)];
    for (let round = 0; round < ROUNDS; round += 1) {
      while ((await cardsOf(org)).length < 5) await saveCard(org, round % 2 === 0 ? 'pm_card_visa' : 'pm_card_mastercard');
      const cards = await cardsOf(org);
      const current = cards.find((card) => card.isDefault)!.id;
      const [another, ...kept] = cards.filter((card) => !card.isDefault).map((card) => card.id);
      // The default removed twice and another card once, while both are also made the default, and
      // the three that stay are made the default over and over.
      const calls: Call[] = [
        { mutation: 'remove', card: current },
        ...kept.map((card) => ({ mutation: 'setDefault' as const, card })),
        { mutation: 'remove', card: another },
        { mutation: 'setDefault', card: current },
        ...kept.map((card) => ({ mutation: 'setDefault' as const, card })),
        { mutation: 'remove', card: current },
        { mutation: 'setDefault', card: another },
        ...kept.map((card) => ({ mutation: 'setDefault' as const, card })),
        ...kept.slice(0, 2).map((card) => ({ mutation: 'setDefault' as const, card })),
      ];
      expect(calls).toHaveLength(16);
      const answers = await send(servers, org, calls, round);

      const removed = new Set<string>();
      for (const { call, result } of answers) {
        expect({ call, errors: result.errors }).toEqual({ call, errors: undefined });
        const payload = call.mutation === 'remove' ? result.data.paymentMethodRemove : result.data.paymentMethodSetDefault;
        const expected = call.mutation === 'remove' ? { removedId: call.card, userErrors: [] } : { paymentMethod: { id: call.card, isDefault: true }, userErrors: [] };
        // A card removed at the same moment may already be gone: the one clean answer besides success.
        const gone = call.mutation === 'remove' ? { removedId: null, userErrors: [{ code: 'NOT_FOUND' }] } : { paymentMethod: null, userErrors: [{ code: 'NOT_FOUND' }] };
        expect(kept.includes(call.card) ? [expected] : [expected, gone]).toContainEqual(payload);
        if (payload.removedId) removed.add(payload.removedId);
      }
      expect([...removed].sort()).toEqual([current, another].sort());

      const state = await settledState(org, [current, another]);
      expect(state.ids).toEqual([...kept].sort());
      expect(state.defaults).toHaveLength(1);
      expect(state.stripeDefault).toBe(state.defaults[0]);
      for (const card of [current, another]) expect(payments.paymentMethods.get(card)!.customer).toBeNull();
    }

    // The last cards removed at once: none left, and Stripe's default cleared.
    const last = (await cardsOf(org)).map((card) => card.id);
    const answers = await send(servers, org, last.map((card) => ({ mutation: 'remove', card })), 0);
    expect(answers.map(({ result }) => result)).toEqual(last.map((card) => ({ status: 200, data: { paymentMethodRemove: { removedId: card, userErrors: [] } } })));
    expect(await settledState(org, last)).toEqual({ ids: [], defaults: [], stripeDefault: null });
    expect(webhookLines.filter((line) => !line.includes(': answered 200 '))).toEqual([]);
  }, 180_000);

  it('a card detached in Stripe itself: the default moves on, Stripe agrees, and a late setup event does not bring it back', async () => {
    const org = await createOrganization(app);
    const visaSetup = await saveCard(org, 'pm_card_visa');
    const visa = visaSetup.payment_method;
    const mastercard = (await saveCard(org, 'pm_card_mastercard')).payment_method;
    const newest = (await saveCard(org, 'pm_card_visa')).payment_method;
    expect(stripeDefaultOf(org)).toBe(visa);

    await stripeSdk.paymentMethods.detach(visa);
    await detachedEventsAnswered([visa]);
    // The newest remaining card.
    expect(await cardsOf(org)).toEqual([
      { id: mastercard, isDefault: false },
      { id: newest, isDefault: true },
    ]);
    expect(stripeDefaultOf(org)).toBe(newest);

    // Stripe delivers events in any order, and again: the card's setup reported after its detachment.
    expect(await sendWebhook(app, 'setup_intent.succeeded', visaSetup)).toBe(200);
    expect((await cardsOf(org)).map((card) => card.id)).toEqual([mastercard, newest]);

    // Stripe's default changed behind tollgate's back: setting the default again puts it right.
    await stripeSdk.customers.update(stripeCustomerOf(org).id, { invoice_settings: { default_payment_method: mastercard } });
    const { paymentMethodSetDefault } = await app.data(SET_DEFAULT, { input: { paymentMethodId: newest } }, org.ownerToken);
    expect(paymentMethodSetDefault).toEqual({ paymentMethod: { id: newest, isDefault: true }, userErrors: [] });
    expect(stripeDefaultOf(org)).toBe(newest);
  });

  it('the database refuses saved cards without a default, checked at commit', async () => {
    const org = await createOrganization(app);
    const visa = (await saveCard(org, 'pm_card_visa')).payment_method;
    const mastercard = (await saveCard(org, 'pm_card_mastercard')).payment_method;
    const run = (...statements: string[]) =>
      app.orm.em.fork().transactional(async (tx) => {
        for (const statement of statements) await tx.execute(statement, [org.organizationId]);
      });
    const refused = /has saved cards but no default card/;
    await expect(run('update payment_methods set is_default = false where organization_id = ?')).rejects.toThrow(refused);
    await expect(run('delete from payment_methods where organization_id = ? and is_default')).rejects.toThrow(refused);
    await expect(run('insert into payment_methods (id, organization_id, brand, last4, exp_month, exp_year) values (\'pm_other\', ?, \'visa\', \'4242\', 12, 2034)', 'update payment_methods set is_default = false where organization_id = ?')).rejects.toThrow(refused);
    expect(await cardsOf(org)).toEqual([
      { id: visa, isDefault: true },
      { id: mastercard, isDefault: false },
    ]);
    // Within one transaction the default may be absent for a while: the default moved, then all cards gone.
    await run(
      'update payment_methods set is_default = false where organization_id = ?',
      `update payment_methods set is_default = true where organization_id = ? and id = '${mastercard}'`,
    );
    expect(await cardsOf(org)).toEqual([
      { id: visa, isDefault: false },
      { id: mastercard, isDefault: true },
    ]);
    await run('delete from payment_methods where organization_id = ? and is_default', 'delete from payment_methods where organization_id = ?');
    expect(await cardsOf(org)).toEqual([]);
  });

  it('the migration that brings the check gives organizations left without a default their newest card', async () => {
    await onFreshDatabase('one_default_card', async (url) => {
      const orm = await MikroORM.init(ormConfig(url, 1));
      try {
        await orm.getMigrator().up({ to: 'Migration20261124000000_usage_rollup' });
        const em = orm.em.fork();
        await em.execute(`insert into organizations (id, name) values ('org_a', 'A'), ('org_b', 'B')`);
        await em.execute(
          `insert into payment_methods (id, organization_id, brand, last4, exp_month, exp_year, is_default, created_at) values
             ('pm_a1', 'org_a', 'visa', '4242', 12, 2034, false, '2026-01-01'), ('pm_a2', 'org_a', 'visa', '4242', 12, 2034, false, '2026-01-02'),
             ('pm_b1', 'org_b', 'visa', '4242', 12, 2034, true, '2026-01-01'), ('pm_b2', 'org_b', 'visa', '4242', 12, 2034, false, '2026-01-02')`,
        );
        await orm.getMigrator().up();
        expect(await em.execute('select id, is_default from payment_methods order by id')).toEqual([
          { id: 'pm_a1', is_default: false },
          { id: 'pm_a2', is_default: true },
          { id: 'pm_b1', is_default: true },
          { id: 'pm_b2', is_default: false },
        ]);
      } finally {
        await orm.close(true);
      }
    });
  });
});
