import { type PaymentsServer, startPaymentsServer } from '../src/dev/payments-server';
import { ADMIN_TOKEN, GATEWAY_TOKEN, startTestApp, type TestApp } from './support/app';
import { ADJUST, createWorkspace, fund, organizationWithWorkspace, TRANSFER, unique } from './support/fixtures';
import { AUTHORIZE, CAPTURE, createApiKey, DEBIT, DEBIT_BATCH, gatewaySetup, RELEASE, requestKey, setModelPrice, walletState } from './support/gateway';
import { buyingOrganization, paymentsOptions, saveCard } from './support/payments';

/**
 * Every mutation that takes an idempotency key (and the settling of a hold, keyed by the hold)
 * judges a retry by what the client sent: the same input after a change on the server's side
 * gets the first answer; another input under the same key is IDEMPOTENCY_KEY_REUSED.
 */

let stripe: PaymentsServer;
let app: TestApp;

beforeAll(async () => {
  stripe = await startPaymentsServer();
  app = await startTestApp({
    ...paymentsOptions(stripe),
  });
});

afterAll(async () => {
  await app?.close();
  await stripe?.close();
});

const REUSED = [expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'] })];

describe('purchaseCreate', () => {
  const PURCHASE = `mutation ($input: PurchaseCreateInput!) {
    purchaseCreate(input: $input) { purchase { id status amount bonus } clientSecret userErrors { field code message } }
  }`;
  const CARD_MUTATION = (name: string) => `mutation ($input: ${name[0].toUpperCase()}${name.slice(1)}Input!) { ${name}(input: $input) { userErrors { code } } }`;

  it('a retry after the default card changed, or went, gets the first purchase; naming a card is another request', async () => {
    const org = await buyingOrganization(app);
    const buy = async (input: Record<string, unknown>) => (await app.data(PURCHASE, { input }, org.ownerToken)).purchaseCreate;
    const visa = await saveCard(app, stripe, org.ownerToken, 'pm_card_visa');
    const mastercard = await saveCard(app, stripe, org.ownerToken, 'pm_card_mastercard');
    // No card named: the default one (visa) is charged.
    const input = { workspaceId: org.workspaceId, amount: '20', idempotencyKey: unique('default card') };
    const first = await buy(input);
    expect(first).toMatchObject({ purchase: { status: 'SUCCEEDED', amount: '20' }, userErrors: [] });

    expect((await app.data(CARD_MUTATION('paymentMethodSetDefault'), { input: { paymentMethodId: mastercard } }, org.ownerToken)).paymentMethodSetDefault.userErrors).toEqual([]);
    expect(await buy(input)).toEqual(first);
    // Null is how a client leaves the card out, too; the same amount written another way is the same amount.
    expect(await buy({ ...input, paymentMethodId: null })).toEqual(first);
    expect(await buy({ ...input, amount: '20.00' })).toEqual(first);
    for (const card of [visa, mastercard]) {
      expect((await app.data(CARD_MUTATION('paymentMethodRemove'), { input: { paymentMethodId: card } }, org.ownerToken)).paymentMethodRemove.userErrors).toEqual([]);
    }
    // No card left at all: still the first purchase, not NO_PAYMENT_METHOD.
    expect(await buy(input)).toEqual(first);

    // Naming a card, even the one charged, another amount or workspace: another request.
    expect((await buy({ ...input, paymentMethodId: visa })).userErrors).toEqual(REUSED);
    expect((await buy({ ...input, amount: '20.01' })).userErrors).toEqual(REUSED);
    const other = await createWorkspace(app, org.ownerToken);
    expect((await buy({ ...input, workspaceId: other.workspaceId })).userErrors).toEqual(REUSED);

    const intents = [...stripe.paymentIntents.values()].filter((intent) => intent.metadata.purchase_id === first.purchase.id);
    expect(intents.map((intent) => intent.payment_method)).toEqual([visa]);
    expect((await walletState(app, org.walletId)).balance).toBe(20_000_000_000n);
  });

  it('a named card is compared as sent, not as trimmed', async () => {
    const org = await buyingOrganization(app);
    const input = { workspaceId: org.workspaceId, amount: '5', paymentMethodId: 'pm_card_visa', idempotencyKey: unique('named card') };
    const first = (await app.data(PURCHASE, { input }, org.ownerToken)).purchaseCreate;
    expect(first.purchase.status).toBe('SUCCEEDED');
    expect((await app.data(PURCHASE, { input }, org.ownerToken)).purchaseCreate).toEqual(first);
    expect((await app.data(PURCHASE, { input: { ...input, paymentMethodId: ' pm_card_visa' } }, org.ownerToken)).purchaseCreate.userErrors).toEqual(REUSED);
  });
});

describe('walletAdjust', () => {
  it('a retry after the balance moved gets the first row; the description as sent, another amount or wallet is another request', async () => {
    const org = await organizationWithWorkspace(app);
    const other = await createWorkspace(app, org.ownerToken);
    const adjust = async (input: Record<string, unknown>) => (await app.data(ADJUST, { input }, ADMIN_TOKEN)).walletAdjust;
    const input = { walletId: org.walletId, amount: '5', description: 'goodwill', idempotencyKey: unique('adjust') };
    const first = await adjust(input);
    expect(first).toMatchObject({ transaction: { amount: '5', balanceAfter: '5' }, userErrors: [] });
    // Spent since: the retry still gets the first row and adds nothing.
    expect((await adjust({ ...input, amount: '-5', idempotencyKey: unique('spent') })).userErrors).toEqual([]);
    expect(await adjust(input)).toEqual(first);
    expect(await adjust({ ...input, amount: '5.000' })).toEqual(first);

    expect((await adjust({ ...input, description: 'goodwill ' })).userErrors).toEqual(REUSED);
    expect((await adjust({ ...input, amount: '6' })).userErrors).toEqual(REUSED);
    expect((await adjust({ ...input, walletId: other.walletId })).userErrors).toEqual(REUSED);
    expect(await walletState(app, org.walletId)).toMatchObject({ balance: 0n, sum: 0n });
    expect((await walletState(app, other.walletId)).balance).toBe(0n);
  });
});

describe('walletTransfer', () => {
  it("a retry after the source was emptied gets the first rows; the server's default description is not what the client sent", async () => {
    const org = await organizationWithWorkspace(app);
    const other = await createWorkspace(app, org.ownerToken);
    const transfer = async (input: Record<string, unknown>) => (await app.data(TRANSFER, { input }, org.ownerToken)).walletTransfer;
    await fund(app, org.walletId, '3');
    const input = { fromWalletId: org.walletId, toWalletId: other.walletId, amount: '3', idempotencyKey: unique('transfer') };
    const first = await transfer(input);
    expect(first).toMatchObject({ transferOut: { amount: '-3', balanceAfter: '0' }, userErrors: [] });
    // The source is empty now, so the transfer could not be made again: the retry gets its first answer.
    expect(await transfer(input)).toEqual(first);
    expect(await transfer({ ...input, description: null })).toEqual(first);

    // The description the server filled in was not sent: sending it is another request.
    expect((await transfer({ ...input, description: 'Transfer between workspaces' })).userErrors).toEqual(REUSED);
    expect((await transfer({ ...input, fromWalletId: other.walletId, toWalletId: org.walletId })).userErrors).toEqual(REUSED);
    expect((await transfer({ ...input, amount: '2' })).userErrors).toEqual(REUSED);
    expect(await walletState(app, other.walletId)).toMatchObject({ balance: 3_000_000_000n, sum: 3_000_000_000n });
  });
});

describe('the gateway', () => {
  const REVOKE = `mutation ($input: ApiKeyRevokeInput!) { apiKeyRevoke(input: $input) { userErrors { code } } }`;
  const gateway = (query: string, variables: Record<string, unknown>) => app.data(query, variables, GATEWAY_TOKEN);

  it('gatewayDebit and gatewayDebitBatch: a retry after the price changed and the key was revoked gets the first answer; every field sent counts', async () => {
    const fixture = await gatewaySetup(app, '1');
    const otherKey = await createApiKey(app, fixture.ownerToken, fixture.workspaceId);
    const input = { apiKey: fixture.secret, model: fixture.model, idempotencyKey: requestKey(), inputTokens: 1000, outputTokens: 0 };
    const first = (await gateway(DEBIT, { input })).gatewayDebit;
    expect(first).toMatchObject({ allowed: true, cost: '0.0011' });

    for (const changed of [{ apiKey: otherKey.secret }, { identity: 'alice' }, { inputTokens: 1001 }, { outputTokens: 1 }]) {
      expect((await gateway(DEBIT, { input: { ...input, ...changed } })).gatewayDebit.denial).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', httpStatus: 409 });
    }

    await setModelPrice(app, fixture.model, { inputPricePerMillion: '5', outputPricePerMillion: '5' });
    expect((await app.data(REVOKE, { input: { apiKeyId: fixture.apiKeyId } }, fixture.ownerToken)).apiKeyRevoke.userErrors).toEqual([]);
    expect((await gateway(DEBIT, { input })).gatewayDebit).toEqual(first);
    expect((await gateway(DEBIT, { input: { ...input, identity: null } })).gatewayDebit).toEqual(first);
    const [fromBatch] = (await gateway(DEBIT_BATCH, { input: { debits: [input] } })).gatewayDebitBatch.results;
    expect(fromBatch).toEqual({ allowed: true, denial: null, availableBalance: first.availableBalance, cost: first.cost, transactionId: first.transactionId });
    // A new request with the revoked key is refused.
    expect((await gateway(DEBIT, { input: { ...input, idempotencyKey: requestKey() } })).gatewayDebit.denial.code).toBe('INVALID_API_KEY');
    expect(await walletState(app, fixture.walletId)).toMatchObject({ deductions: 1, balance: 1_000_000_000n - 1_100_000n });
  });

  it('gatewayAuthorize: maxima left out are not maxima of 0; a retry after the key was revoked gets the first hold', async () => {
    const fixture = await gatewaySetup(app, '1');
    const input = { apiKey: fixture.secret, model: fixture.model, idempotencyKey: requestKey() };
    const first = (await gateway(AUTHORIZE, { input })).gatewayAuthorize;
    expect(first).toMatchObject({ allowed: true, hold: { amount: '0' } });
    expect((await gateway(AUTHORIZE, { input: { ...input, maxInputTokens: null, maxOutputTokens: null } })).gatewayAuthorize).toEqual(first);
    for (const changed of [{ maxInputTokens: 0 }, { maxOutputTokens: 0 }, { maxInputTokens: 1000 }]) {
      expect((await gateway(AUTHORIZE, { input: { ...input, ...changed } })).gatewayAuthorize.denial).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    }
    expect((await app.data(REVOKE, { input: { apiKeyId: fixture.apiKeyId } }, fixture.ownerToken)).apiKeyRevoke.userErrors).toEqual([]);
    expect((await gateway(AUTHORIZE, { input })).gatewayAuthorize).toEqual(first);
    const holds = await app.orm.em.fork().execute('select count(*)::int as count from holds where wallet_id = ?', [fixture.walletId]);
    expect(holds[0].count).toBe(1);
  });

  it('gatewayCapture and gatewayRelease: a retry after the price went and the key was revoked gets the first answer', async () => {
    const fixture = await gatewaySetup(app, '1');
    const hold = async () => (await gateway(AUTHORIZE, { input: { apiKey: fixture.secret, model: fixture.model, idempotencyKey: requestKey(), maxInputTokens: 1000 } })).gatewayAuthorize.hold.id;
    const [toCapture, toRelease] = [await hold(), await hold()];
    const captureInput = { holdId: toCapture, inputTokens: 500, outputTokens: 0 };
    const captured = (await gateway(CAPTURE, { input: captureInput })).gatewayCapture;
    const released = (await gateway(RELEASE, { input: { holdId: toRelease } })).gatewayRelease;
    expect([captured.allowed, released.allowed]).toEqual([true, true]);

    await app.data(`mutation ($input: ModelPriceRemoveInput!) { modelPriceRemove(input: $input) { userErrors { code } } }`, { input: { model: fixture.model } }, ADMIN_TOKEN);
    await app.data(REVOKE, { input: { apiKeyId: fixture.apiKeyId } }, fixture.ownerToken);
    expect((await gateway(CAPTURE, { input: captureInput })).gatewayCapture).toEqual(captured);
    expect((await gateway(RELEASE, { input: { holdId: toRelease } })).gatewayRelease).toEqual(released);
    expect((await gateway(CAPTURE, { input: { ...captureInput, outputTokens: 1 } })).gatewayCapture.denial.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await walletState(app, fixture.walletId)).toMatchObject({ deductions: 1, held: 0n });
  });
});
