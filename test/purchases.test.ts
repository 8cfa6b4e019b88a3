import { type PaymentsServer, startPaymentsServer } from '../src/dev/payments-server';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './support/app';
import { ADJUST, codes, createMemberWithToken, createOrganization, createWorkspace, organizationWithWorkspace, unique } from './support/fixtures';
import { debit, gatewaySetup } from './support/gateway';
import { buyingOrganization, paymentsOptions, saveCard, sendWebhook, withBillingProfile } from './support/payments';

const PURCHASE = `mutation ($input: PurchaseCreateInput!) {
  purchaseCreate(input: $input) { purchase { id kind amount bonus status failureReason completedAt } clientSecret userErrors { field code message } }
}`;
const WALLET = `query ($id: ID!) { node(id: $id) { ... on Wallet { balance transactions(first: 10) { nodes { type amount description } } } } }`;

let stripe: PaymentsServer;
let paid: TestApp;
let unconfigured: TestApp;

beforeAll(async () => {
  stripe = await startPaymentsServer();
  unconfigured = await startTestApp();
  paid = await startTestApp({
    ...paymentsOptions(stripe),
  });
});

afterAll(async () => {
  await Promise.all([paid?.close(), unconfigured?.close()]);
  await stripe?.close();
});

async function buy(app: TestApp, token: string, workspaceId: string, amount: string, paymentMethodId: string | null = 'pm_card_visa', idempotencyKey = unique('buy')) {
  return (await app.data(PURCHASE, { input: { workspaceId, amount, paymentMethodId, idempotencyKey } }, token)).purchaseCreate;
}

async function walletOf(walletId: string, token: string) {
  return (await paid.data(WALLET, { id: walletId }, token)).node as { balance: string; transactions: { nodes: Array<{ type: string; amount: string }> } };
}

/** What the stand-in holds for one purchase: its PaymentIntents or its invoices. */
const ofPurchase = (objects: Map<string, Record<string, any>>, purchaseId: string) =>
  [...objects.values()].filter((object) => object.metadata.purchase_id === purchaseId);
const intentOf = (purchaseId: string) => ofPurchase(stripe.paymentIntents, purchaseId)[0];


describe('purchaseCreate', () => {
  it('answers PAYMENTS_NOT_CONFIGURED without a Stripe key', async () => {
    const org = await organizationWithWorkspace(unconfigured);
    const result = await buy(unconfigured, org.ownerToken, org.workspaceId, '10');
    expect(result).toMatchObject({ purchase: null, userErrors: [{ code: 'PAYMENTS_NOT_CONFIGURED' }] });
    const { autoTopUpUpdate } = await unconfigured.data(
      `mutation ($input: AutoTopUpUpdateInput!) { autoTopUpUpdate(input: $input) { wallet { id } userErrors { code } } }`,
      { input: { walletId: org.walletId, enabled: true, threshold: '5', amount: '10' } },
      org.ownerToken,
    );
    expect(autoTopUpUpdate).toEqual({ wallet: null, userErrors: [{ code: 'PAYMENTS_NOT_CONFIGURED' }] });
    const { paymentMethodSetupStart } = await unconfigured.data(`mutation { paymentMethodSetupStart(input: {}) { clientSecret userErrors { code } } }`, {}, org.ownerToken);
    expect(paymentMethodSetupStart).toEqual({ clientSecret: null, userErrors: [{ code: 'PAYMENTS_NOT_CONFIGURED' }] });
  });

  it('fails a purchase with a card Stripe does not know, with its reason', async () => {
    const org = await buyingOrganization(paid);
    const { purchase } = await buy(paid, org.ownerToken, org.workspaceId, '10', 'pm_not_a_card');
    expect(purchase).toMatchObject({ status: 'FAILED', failureReason: "No such PaymentMethod: 'pm_not_a_card'" });
    expect((await walletOf(org.walletId, org.ownerToken)).balance).toBe('0');
  });

  it('charges the card and credits the amount: minimum $5, whole cents', async () => {
    const org = await buyingOrganization(paid);
    for (const amount of ['4.99', '5.001']) {
      expect((await buy(paid, org.ownerToken, org.workspaceId, amount)).userErrors).toEqual([expect.objectContaining({ field: ['input', 'amount'], code: 'INVALID' })]);
    }
    const result = await buy(paid, org.ownerToken, org.workspaceId, '5');
    expect(result).toMatchObject({ purchase: { kind: 'PURCHASE', amount: '5', bonus: '0', status: 'SUCCEEDED', failureReason: null }, clientSecret: null, userErrors: [] });
    expect(await walletOf(org.walletId, org.ownerToken)).toEqual({ balance: '5', transactions: { nodes: [{ type: 'PURCHASE', amount: '5', description: 'Credit purchase' }] } });
    const intent = intentOf(result.purchase.id);
    expect(intent).toMatchObject({ amount: 500, currency: 'usd', payment_method: 'pm_card_visa' });
  });

  it.each([
    ['49.99', '0'],
    ['50', '5'],
    ['99.99', '9.999'],
    ['100', '15'],
    ['249.99', '37.4985'],
    ['250', '50'],
    ['499.99', '99.998'],
    ['500', '125'],
  ])('adds the bonus of its tier: $%s gets %s', async (amount, bonus) => {
    const org = await buyingOrganization(paid);
    const { purchase } = await buy(paid, org.ownerToken, org.workspaceId, amount);
    expect(purchase).toMatchObject({ amount, bonus, status: 'SUCCEEDED' });
    const wallet = await walletOf(org.walletId, org.ownerToken);
    const rows = wallet.transactions.nodes.map((row) => [row.type, row.amount]);
    expect(rows).toEqual(bonus === '0' ? [['PURCHASE', amount]] : [['BONUS', bonus], ['PURCHASE', amount]]);
  });

  it("records a declined card as FAILED with Stripe's reason, and credits nothing", async () => {
    const org = await buyingOrganization(paid);
    const result = await buy(paid, org.ownerToken, org.workspaceId, '20', 'pm_card_chargeDeclined');
    expect(result).toMatchObject({ purchase: { status: 'FAILED', failureReason: 'Your card was declined.' }, userErrors: [] });
    expect(await walletOf(org.walletId, org.ownerToken)).toEqual({ balance: '0', transactions: { nodes: [] } });
  });

  it('charges once for a retried request, and refuses the same key with another amount', async () => {
    const org = await buyingOrganization(paid);
    const idempotencyKey = unique('retried');
    const first = await buy(paid, org.ownerToken, org.workspaceId, '60', 'pm_card_visa', idempotencyKey);
    const again = await Promise.all([1, 2, 3].map(() => buy(paid, org.ownerToken, org.workspaceId, '60', 'pm_card_visa', idempotencyKey)));
    expect(again.map((result) => result.purchase.id)).toEqual([first.purchase.id, first.purchase.id, first.purchase.id]);
    expect((await buy(paid, org.ownerToken, org.workspaceId, '70', 'pm_card_visa', idempotencyKey)).userErrors).toEqual([
      expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED' }),
    ]);
    expect((await walletOf(org.walletId, org.ownerToken)).balance).toBe('66');
    expect(ofPurchase(stripe.paymentIntents, first.purchase.id)).toHaveLength(1);
  });

  it('charges once when retries arrive while the first attempt is still with Stripe', async () => {
    const org = await buyingOrganization(paid);
    const idempotencyKey = unique('concurrent');
    let release!: () => void;
    let arrived!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    stripe.beforeIntentAnswer = () => {
      arrived();
      return held;
    };
    try {
      const first = buy(paid, org.ownerToken, org.workspaceId, '30', 'pm_card_visa', idempotencyKey);
      await arrival;
      const retries = await Promise.all([1, 2].map(() => buy(paid, org.ownerToken, org.workspaceId, '30', 'pm_card_visa', idempotencyKey)));
      expect(retries.map((retry) => retry.purchase.status)).toEqual(['PENDING', 'PENDING']);
      release();
      expect((await first).purchase.status).toBe('SUCCEEDED');
    } finally {
      stripe.beforeIntentAnswer = null;
    }
    expect((await walletOf(org.walletId, org.ownerToken)).balance).toBe('30');
  });

  it('is for owners and admins', async () => {
    const org = await buyingOrganization(paid);
    const member = await createMemberWithToken(paid, org.ownerToken, 'MEMBER');
    expect(codes(await paid.gql(PURCHASE, { input: { workspaceId: org.workspaceId, amount: '5', paymentMethodId: 'pm_card_visa', idempotencyKey: 'k' } }, member.token))).toEqual([
      'FORBIDDEN',
    ]);
    const other = await createOrganization(paid);
    const theirs = await createWorkspace(paid, other.ownerToken);
    expect((await buy(paid, org.ownerToken, theirs.workspaceId, '5')).userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })]);
  });
});

describe('3-D Secure and webhooks', () => {
  it('waits for authentication, then credits once when the webhook says it succeeded, however often it comes', async () => {
    const org = await buyingOrganization(paid);
    const idempotencyKey = unique('secure');
    const result = await buy(paid, org.ownerToken, org.workspaceId, '100', 'pm_card_authenticationRequired', idempotencyKey);
    expect(result.purchase.status).toBe('REQUIRES_ACTION');
    const intent = intentOf(result.purchase.id);
    expect(result.clientSecret).toBe(intent.client_secret);
    const retried = await buy(paid, org.ownerToken, org.workspaceId, '100', 'pm_card_authenticationRequired', idempotencyKey);
    expect(retried).toMatchObject({ purchase: { id: result.purchase.id, status: 'REQUIRES_ACTION' }, clientSecret: intent.client_secret });
    expect((await walletOf(org.walletId, org.ownerToken)).balance).toBe('0');

    const succeeded = (await stripe.authenticate(intent.id, 'complete')).object;
    expect(await sendWebhook(paid, 'payment_intent.succeeded', succeeded, 'evt_once')).toBe(200);
    expect(await sendWebhook(paid, 'payment_intent.succeeded', succeeded, 'evt_once')).toBe(200);
    expect(await sendWebhook(paid, 'payment_intent.succeeded', succeeded)).toBe(200);
    expect((await walletOf(org.walletId, org.ownerToken)).balance).toBe('115');
  });

  it('credits once when the webhook arrives before the answer of the confirmation', async () => {
    const org = await buyingOrganization(paid);
    stripe.beforeIntentAnswer = async (intent) => {
      expect(await sendWebhook(paid, 'payment_intent.succeeded', intent)).toBe(200);
    };
    try {
      const result = await buy(paid, org.ownerToken, org.workspaceId, '50');
      expect(result.purchase.status).toBe('SUCCEEDED');
    } finally {
      stripe.beforeIntentAnswer = null;
    }
    expect(await walletOf(org.walletId, org.ownerToken)).toMatchObject({ balance: '55' });
    expect((await walletOf(org.walletId, org.ownerToken)).transactions.nodes).toHaveLength(2);
  });

  it('credits once when the webhook arrives after the confirmation already did', async () => {
    const org = await buyingOrganization(paid);
    const { purchase } = await buy(paid, org.ownerToken, org.workspaceId, '100');
    const intent = intentOf(purchase.id);
    expect(await sendWebhook(paid, 'payment_intent.succeeded', intent)).toBe(200);
    expect((await walletOf(org.walletId, org.ownerToken)).balance).toBe('115');
  });

  it('refuses a webhook with a bad signature (400) and credits nothing', async () => {
    const org = await buyingOrganization(paid);
    const result = await buy(paid, org.ownerToken, org.workspaceId, '10', 'pm_card_authenticationRequired');
    const intent = (await stripe.authenticate(intentOf(result.purchase.id).id, 'complete')).object;
    expect(await sendWebhook(paid, 'payment_intent.succeeded', intent, undefined, 'whsec_not_ours')).toBe(400);
    const response = await fetch(`${paid.server.url}/webhooks/stripe`, { method: 'POST', body: JSON.stringify({ id: 'evt_x', type: 'payment_intent.succeeded', data: { object: intent } }) });
    expect(response.status).toBe(400);
    expect((await walletOf(org.walletId, org.ownerToken)).balance).toBe('0');
  });

  it('marks a purchase FAILED when the payment fails after authentication', async () => {
    const org = await buyingOrganization(paid);
    const result = await buy(paid, org.ownerToken, org.workspaceId, '10', 'pm_card_authenticationRequired');
    const intent = intentOf(result.purchase.id);
    const failed = { ...intent, status: 'requires_payment_method', last_payment_error: { message: 'The card holder did not authenticate.' } };
    expect(await sendWebhook(paid, 'payment_intent.payment_failed', failed)).toBe(200);
    const { node } = await paid.data(`query ($id: ID!) { node(id: $id) { ... on Purchase { status failureReason } } }`, { id: result.purchase.id }, org.ownerToken);
    expect(node).toEqual({ status: 'FAILED', failureReason: 'The card holder did not authenticate.' });
  });
});

describe('purchase history', () => {
  it('lists purchases newest first with their bonus and status, by kind', async () => {
    const org = await buyingOrganization(paid);
    await buy(paid, org.ownerToken, org.workspaceId, '50');
    await buy(paid, org.ownerToken, org.workspaceId, '20', 'pm_card_chargeDeclined');
    await buy(paid, org.ownerToken, org.workspaceId, '100');
    const HISTORY = `query ($kinds: [PurchaseKind!]) { organization { purchases(first: 10, kinds: $kinds) { nodes { kind amount bonus refunded status wallet { id } } } } }`;
    const { organization } = await paid.data(HISTORY, {}, org.ownerToken);
    expect(organization.purchases.nodes).toEqual([
      { kind: 'PURCHASE', amount: '100', bonus: '15', refunded: '0', status: 'SUCCEEDED', wallet: { id: org.walletId } },
      { kind: 'PURCHASE', amount: '20', bonus: '0', refunded: '0', status: 'FAILED', wallet: { id: org.walletId } },
      { kind: 'PURCHASE', amount: '50', bonus: '5', refunded: '0', status: 'SUCCEEDED', wallet: { id: org.walletId } },
    ]);
    expect((await paid.data(HISTORY, { kinds: ['AUTO_TOP_UP'] }, org.ownerToken)).organization.purchases.nodes).toEqual([]);
  });
});

describe('refunds', () => {
  it('take back the refunded amount and its share of the bonus, once, even below zero; the wallet then spends nothing', async () => {
    const fixture = await gatewaySetup(paid, null);
    await withBillingProfile(paid, fixture.ownerToken);
    const { purchase } = await buy(paid, fixture.ownerToken, fixture.workspaceId, '100');
    const intent = intentOf(purchase.id);
    const spent = await paid.data(ADJUST, { input: { walletId: fixture.walletId, amount: '-100', description: 'spent', idempotencyKey: unique('spent') } }, ADMIN_TOKEN);
    expect(spent.walletAdjust.userErrors).toEqual([]);
    const charge = (refunded: number) => ({ id: 'ch_1', object: 'charge', payment_intent: intent.id, amount: 10000, amount_refunded: refunded });

    expect(await sendWebhook(paid, 'charge.refunded', charge(4000), 'evt_partial')).toBe(200);
    expect(await sendWebhook(paid, 'charge.refunded', charge(4000), 'evt_partial')).toBe(200);
    expect(await sendWebhook(paid, 'charge.refunded', charge(4000))).toBe(200);
    expect((await walletOf(fixture.walletId, fixture.ownerToken)).balance).toBe('-31');
    expect(await sendWebhook(paid, 'charge.refunded', charge(10000))).toBe(200);
    const wallet = await walletOf(fixture.walletId, fixture.ownerToken);
    expect(wallet.balance).toBe('-100');
    expect(wallet.transactions.nodes.slice(0, 2)).toEqual([
      { type: 'REFUND', amount: '-69', description: 'Refund of $60 and $9 of its bonus' },
      { type: 'REFUND', amount: '-46', description: 'Refund of $40 and $6 of its bonus' },
    ]);
    expect((await debit(paid, fixture)).denial.code).toBe('INSUFFICIENT_CREDITS');
  });
});

describe('saved cards', () => {
  const CARDS = `{ organization { paymentMethods { id brand last4 expMonth expYear isDefault } } }`;
  const SET_DEFAULT = `mutation ($input: PaymentMethodSetDefaultInput!) { paymentMethodSetDefault(input: $input) { paymentMethod { id isDefault } userErrors { code } } }`;
  const REMOVE = `mutation ($input: PaymentMethodRemoveInput!) { paymentMethodRemove(input: $input) { removedId userErrors { code } } }`;


  const cardsOf = async (token: string) => (await paid.data(CARDS, {}, token)).organization.paymentMethods as Array<{ id: string; brand: string; isDefault: boolean }>;

  it('saves cards, the first as the default, charges the default when a purchase names none, and moves the default on removal', async () => {
    const org = await buyingOrganization(paid);
    expect((await buy(paid, org.ownerToken, org.workspaceId, '10', null)).userErrors).toEqual([expect.objectContaining({ code: 'NO_PAYMENT_METHOD' })]);
    const visa = await saveCard(paid, stripe, org.ownerToken, 'pm_card_visa');
    const mastercard = await saveCard(paid, stripe, org.ownerToken, 'pm_card_mastercard');
    expect(await cardsOf(org.ownerToken)).toEqual([
      { id: visa, brand: 'visa', last4: '4242', expMonth: 12, expYear: 2034, isDefault: true },
      { id: mastercard, brand: 'mastercard', last4: '4444', expMonth: 12, expYear: 2034, isDefault: false },
    ]);
    const customer = [...stripe.customers.values()].find((candidate) => candidate.metadata.organization_id === org.organizationId)!;
    expect(customer.invoice_settings.default_payment_method).toBe(visa);

    const { purchase } = await buy(paid, org.ownerToken, org.workspaceId, '10', null);
    expect(purchase.status).toBe('SUCCEEDED');
    expect(intentOf(purchase.id).payment_method).toBe(visa);

    expect((await paid.data(SET_DEFAULT, { input: { paymentMethodId: mastercard } }, org.ownerToken)).paymentMethodSetDefault).toEqual({
      paymentMethod: { id: mastercard, isDefault: true },
      userErrors: [],
    });
    expect(customer.invoice_settings.default_payment_method).toBe(mastercard);
    expect((await paid.data(REMOVE, { input: { paymentMethodId: mastercard } }, org.ownerToken)).paymentMethodRemove.removedId).toBe(mastercard);
    expect(stripe.paymentMethods.get(mastercard)!.customer).toBeNull();
    expect((await cardsOf(org.ownerToken)).map((card) => [card.id, card.isDefault])).toEqual([[visa, true]]);
  });

  it('auto top-up: turned on with a threshold, an amount and a saved card; turned off with a reason when the last card goes', async () => {
    const org = await buyingOrganization(paid);
    const UPDATE = `mutation ($input: AutoTopUpUpdateInput!) {
      autoTopUpUpdate(input: $input) { wallet { autoTopUp { enabled threshold amount disabledReason } } userErrors { field code message } }
    }`;
    const update = async (input: Record<string, unknown>, app = paid, token = org.ownerToken) =>
      (await app.data(UPDATE, { input: { walletId: org.walletId, ...input } }, token)).autoTopUpUpdate;

    expect((await update({ enabled: true, threshold: '20', amount: '50' })).userErrors).toEqual([
      { field: ['input', 'enabled'], code: 'NO_PAYMENT_METHOD', message: 'Auto top-up charges the default card: save a card first' },
    ]);
    const visa = await saveCard(paid, stripe, org.ownerToken, 'pm_card_visa');
    expect((await update({ enabled: true, amount: '50' })).userErrors).toEqual([{ field: ['input', 'threshold'], code: 'INVALID', message: 'Auto top-up needs a threshold' }]);
    expect((await update({ enabled: true, threshold: '20' })).userErrors).toEqual([{ field: ['input', 'amount'], code: 'INVALID', message: 'Auto top-up needs an amount' }]);
    expect((await update({ enabled: true, threshold: '20', amount: '4.99' })).userErrors).toEqual([{ field: ['input', 'amount'], code: 'INVALID', message: 'The minimum purchase is $5' }]);
    expect((await update({ enabled: true, threshold: '-1', amount: '50' })).userErrors).toEqual([{ field: ['input', 'threshold'], code: 'INVALID', message: 'threshold cannot be negative' }]);
    expect(await update({ enabled: true, threshold: '20', amount: '50' })).toEqual({
      wallet: { autoTopUp: { enabled: true, threshold: '20', amount: '50', disabledReason: null } },
      userErrors: [],
    });
    expect((await update({ enabled: false })).wallet.autoTopUp).toEqual({ enabled: false, threshold: '20', amount: '50', disabledReason: null });
    expect((await update({ enabled: true })).wallet.autoTopUp.enabled).toBe(true);

    await paid.data(REMOVE, { input: { paymentMethodId: visa } }, org.ownerToken);
    const { node } = await paid.data(`query ($id: ID!) { node(id: $id) { ... on Wallet { autoTopUp { enabled disabledReason } } } }`, { id: org.walletId }, org.ownerToken);
    expect(node.autoTopUp).toEqual({ enabled: false, disabledReason: expect.stringMatching(/last saved card was removed/) });
  });

  it("forgets a card detached in Stripe, and refuses another organization's card", async () => {
    const org = await buyingOrganization(paid);
    const other = await createOrganization(paid);
    const visa = await saveCard(paid, stripe, org.ownerToken, 'pm_card_visa');
    expect((await paid.data(REMOVE, { input: { paymentMethodId: visa } }, other.ownerToken)).paymentMethodRemove.userErrors).toEqual([{ code: 'NOT_FOUND' }]);
    expect(await sendWebhook(paid, 'payment_method.detached', { id: visa, object: 'payment_method', customer: null })).toBe(200);
    expect(await cardsOf(org.ownerToken)).toEqual([]);
  });
});

describe('a billing profile', () => {
  const AUTO_TOP_UP = `mutation ($input: AutoTopUpUpdateInput!) {
    autoTopUpUpdate(input: $input) { wallet { autoTopUp { enabled threshold amount } } userErrors { field code message } }
  }`;
  const STATE = `query ($id: ID!) {
    organization { purchases(first: 10) { nodes { id } } }
    node(id: $id) { ... on Wallet { balance autoTopUp { enabled threshold amount } } }
  }`;
  const REQUIRED_TO_BUY = { field: null, code: 'BILLING_PROFILE_REQUIRED', message: 'A purchase needs a billing name and address: set them with billingProfileUpdate first' };
  const REQUIRED_FOR_AUTO_TOP_UP = { field: null, code: 'BILLING_PROFILE_REQUIRED', message: 'Auto top-up buys credits: set a billing name and address with billingProfileUpdate first' };

  /** Tries a purchase and turning auto top-up on; expects both refused with BILLING_PROFILE_REQUIRED, and nothing recorded here or asked of Stripe. */
  async function expectRefused(org: Awaited<ReturnType<typeof organizationWithWorkspace>>, idempotencyKey: string) {
    const before = await paid.data(STATE, { id: org.walletId }, org.ownerToken);
    const requests = stripe.requests.length;
    for (const paymentMethodId of ['pm_card_visa', null]) {
      expect(await buy(paid, org.ownerToken, org.workspaceId, '50', paymentMethodId, idempotencyKey)).toEqual({ purchase: null, clientSecret: null, userErrors: [REQUIRED_TO_BUY] });
    }
    const turnOn = await paid.data(AUTO_TOP_UP, { input: { walletId: org.walletId, enabled: true, threshold: '20', amount: '50' } }, org.ownerToken);
    expect(turnOn.autoTopUpUpdate).toEqual({ wallet: null, userErrors: [REQUIRED_FOR_AUTO_TOP_UP] });
    expect(stripe.requests.length).toBe(requests);
    expect(await paid.data(STATE, { id: org.walletId }, org.ownerToken)).toEqual(before);
  }

  it('is needed to buy credits or turn auto top-up on: refused with BILLING_PROFILE_REQUIRED, nothing recorded or charged; allowed once complete', async () => {
    const org = await organizationWithWorkspace(paid);
    const idempotencyKey = unique('first purchase');
    await expectRefused(org, idempotencyKey);
    // Turning auto top-up off needs no profile.
    expect((await paid.data(AUTO_TOP_UP, { input: { walletId: org.walletId, enabled: false } }, org.ownerToken)).autoTopUpUpdate.userErrors).toEqual([]);

    // A name without an address (a profile from before addresses were asked for) is not enough.
    await paid.orm.em.fork().execute('update organizations set billing_name = ? where id = ?', ['ACME Inc.', org.organizationId]);
    await expectRefused(org, idempotencyKey);

    await withBillingProfile(paid, org.ownerToken);
    // The refusals claimed nothing: the same idempotency key buys now.
    const { purchase, userErrors } = await buy(paid, org.ownerToken, org.workspaceId, '50', 'pm_card_visa', idempotencyKey);
    expect(userErrors).toEqual([]);
    expect(purchase).toMatchObject({ status: 'SUCCEEDED', amount: '50', bonus: '5' });
    await saveCard(paid, stripe, org.ownerToken, 'pm_card_visa');
    expect((await paid.data(AUTO_TOP_UP, { input: { walletId: org.walletId, enabled: true, threshold: '20', amount: '50' } }, org.ownerToken)).autoTopUpUpdate).toEqual({
      wallet: { autoTopUp: { enabled: true, threshold: '20', amount: '50' } },
      userErrors: [],
    });
  });
});

describe('invoices', () => {
  it("issues one paid Stripe invoice per successful purchase, addressed from the billing profile", async () => {
    const org = await buyingOrganization(paid);
    await paid.data(
      `mutation ($input: BillingProfileUpdateInput!) { billingProfileUpdate(input: $input) { userErrors { code } } }`,
      { input: { name: 'ACME GmbH', address: { line1: 'Alexanderplatz 1', city: 'Berlin', postalCode: '10178', country: 'DE' } } },
      org.ownerToken,
    );
    await paid.data(`mutation ($input: TaxIdAddInput!) { taxIdAdd(input: $input) { userErrors { code } } }`, { input: { country: 'DE', type: 'eu_vat', value: 'DE123456789' } }, org.ownerToken);
    const { purchase } = await buy(paid, org.ownerToken, org.workspaceId, '250');
    const { node } = await paid.data(`query ($id: ID!) { node(id: $id) { ... on Purchase { invoiceNumber invoicePdf } } }`, { id: purchase.id }, org.ownerToken);
    const issued = ofPurchase(stripe.invoices, purchase.id);
    expect(issued).toHaveLength(1);
    expect(node).toEqual({ invoiceNumber: issued[0].number, invoicePdf: issued[0].invoice_pdf });
    expect(issued[0]).toMatchObject({
      status: 'paid',
      total: 25000,
      lines: [{ amount: 25000, currency: 'usd', description: 'Credit purchase: $250 of credits and $50 bonus credits' }],
      customer_name: 'ACME GmbH',
      customer_address: { line1: 'Alexanderplatz 1', city: 'Berlin', postal_code: '10178', country: 'DE' },
      customer_tax_ids: [{ type: 'eu_vat', value: 'DE123456789' }],
    });

    const intent = intentOf(purchase.id);
    expect(await sendWebhook(paid, 'payment_intent.succeeded', intent)).toBe(200);
    expect(ofPurchase(stripe.invoices, purchase.id)).toHaveLength(1);
  });

  it('issues none for a failed purchase', async () => {
    const org = await buyingOrganization(paid);
    const { purchase } = await buy(paid, org.ownerToken, org.workspaceId, '20', 'pm_card_chargeDeclined');
    expect(ofPurchase(stripe.invoices, purchase.id)).toEqual([]);
  });
});
