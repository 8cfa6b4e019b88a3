import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { join } from 'node:path';
import Stripe from 'stripe';
import { DEFAULT_SECRET_KEY, type PaymentsServer, startPaymentsServer } from '../src/dev/payments-server';
import { createStripe } from '../src/payments/stripe';
import { startTestApp, type TestApp } from './support/app';
import { eventually, organizationWithWorkspace, unique } from './support/fixtures';
import { buyingOrganization, WEBHOOK_SECRET } from './support/payments';
import { freePort } from './support/process';

const ROOT = join(__dirname, '..');

/** `npm run payments:local -- <args>` to its end: exit code and output. */
async function paymentsLocal(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn('npm', ['run', '--silent', 'payments:local', '--', ...args], { cwd: ROOT, env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = await once(child, 'exit');
  return { code, stdout, stderr };
}

/** A form posted as a browser posts it: the answer is a page. */
async function submit(url: string, fields: Record<string, string>) {
  const response = await fetch(url, { method: 'POST', body: new URLSearchParams(fields) });
  return { status: response.status, page: await response.text() };
}

describe('npm run payments:local', () => {
  it('refuses to start with NODE_ENV=production', async () => {
    const port = await freePort();
    const run = await paymentsLocal([], { NODE_ENV: 'production', PAYMENTS_LOCAL_PORT: String(port) });
    expect(run).toEqual({ code: 1, stdout: '', stderr: 'The local payments server is a development tool: it does not start with NODE_ENV=production.\n' });
  });

  it('says when its port is taken', async () => {
    const running = await startPaymentsServer();
    try {
      const run = await paymentsLocal([], { PAYMENTS_LOCAL_PORT: new URL(running.url).port });
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(`Port ${new URL(running.url).port} is taken: is the payments server running already? PAYMENTS_LOCAL_PORT chooses another.\n`);
    } finally {
      await running.close();
    }
  });

  it('answers a command it does not know with its usage, a command without a server with how to start one, and a wrong variable by its name', async () => {
    const unknown = await paymentsLocal(['refund', 'pi_1']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^Usage: npm run payments:local/);
    const port = await freePort();
    const alone = await paymentsLocal(['complete', 'pi_1'], { PAYMENTS_LOCAL_PORT: String(port) });
    expect(alone).toMatchObject({ code: 1, stderr: `No payments server answers at http://127.0.0.1:${port}: start it with npm run payments:local\n` });
    const misconfigured = await paymentsLocal([], { PAYMENTS_LOCAL_WEBHOOK_URL: 'tollgate' });
    expect(misconfigured).toMatchObject({ code: 1, stderr: 'PAYMENTS_LOCAL_WEBHOOK_URL: must be an http(s) URL\n' });
  });
});

describe('the payments server with tollgate', () => {
  let app: TestApp;
  let payments: PaymentsServer;
  let port: number;
  const logged: string[] = [];
  const start = () => startPaymentsServer({ port, webhook: { url: `${app.server.url}/webhooks/stripe`, secret: WEBHOOK_SECRET }, log: (line) => logged.push(line) });

  beforeAll(async () => {
    // tollgate is told where the payments server will be, the payments server where tollgate is.
    port = await freePort();
    app = await startTestApp({
      stripe: createStripe({ STRIPE_SECRET_KEY: DEFAULT_SECRET_KEY, STRIPE_API_BASE: `http://127.0.0.1:${port}` }),
      stripeWebhookSecret: WEBHOOK_SECRET,
    });
    payments = await start();
  });

  afterAll(async () => {
    await app?.close();
    await payments?.close();
  });

  const PURCHASE = `mutation ($input: PurchaseCreateInput!) { purchaseCreate(input: $input) { purchase { id status invoicePdf } clientSecret userErrors { code } } }`;
  const PURCHASE_STATE = `query ($id: ID!) { node(id: $id) { ... on Purchase { status failureReason refunded wallet { balance } } } }`;

  async function buy(token: string, workspaceId: string, amount: string, paymentMethodId: string) {
    const { purchaseCreate } = await app.data(PURCHASE, { input: { workspaceId, amount, paymentMethodId, idempotencyKey: unique('buy') } }, token);
    expect(purchaseCreate.userErrors).toEqual([]);
    return purchaseCreate as { purchase: { id: string; status: string; invoicePdf: string | null }; clientSecret: string | null };
  }

  const purchaseState = async (token: string, purchaseId: string) => (await app.data(PURCHASE_STATE, { id: purchaseId }, token)).node;

  it('saves a card from its page: its signed webhook brings the card to tollgate', async () => {
    const org = await organizationWithWorkspace(app);
    const { paymentMethodSetupStart } = await app.data(`mutation { paymentMethodSetupStart(input: {}) { clientSecret } }`, {}, org.ownerToken);
    const setupId = paymentMethodSetupStart.clientSecret.split('_secret_')[0];
    expect(logged).toContain(`SetupIntent ${setupId} waits for a card: open ${payments.url}/setup/${setupId}, or run: npm run payments:local -- save-card ${setupId} pm_card_visa`);

    const page = await (await fetch(`${payments.url}/setup/${paymentMethodSetupStart.clientSecret}`)).text();
    for (const card of ['pm_card_visa', 'pm_card_mastercard', 'pm_card_chargeDeclined', 'pm_card_authenticationRequired']) {
      expect(page).toContain(`<input type="hidden" name="card" value="${card}">`);
    }
    expect(await submit(`${payments.url}/setup/${setupId}`, { card: 'pm_card_amex' })).toMatchObject({ status: 400, page: expect.stringContaining('No such test card: &#39;pm_card_amex&#39;. Use one of pm_card_visa') });
    const saved = await submit(`${payments.url}/setup/${setupId}`, { card: 'pm_card_mastercard' });
    expect(saved.status).toBe(200);
    expect(saved.page).toContain('Webhook setup_intent.succeeded: answered 200');
    const { organization } = await app.data(`{ organization { paymentMethods { id brand last4 isDefault } } }`, {}, org.ownerToken);
    const card = organization.paymentMethods[0].id;
    expect(organization.paymentMethods).toEqual([{ id: card, brand: 'mastercard', last4: '4444', isDefault: true }]);

    const again = await submit(`${payments.url}/setup/${setupId}`, { card: 'pm_card_visa' });
    expect(again).toMatchObject({ status: 400, page: expect.stringContaining('This SetupIntent has already succeeded') });

    // Removed in tollgate, the card is detached here, and Stripe's event about it follows.
    await app.data(`mutation ($input: PaymentMethodRemoveInput!) { paymentMethodRemove(input: $input) { removedId } }`, { input: { paymentMethodId: card } }, org.ownerToken);
    await eventually(async () => logged.includes(`Webhook payment_method.detached: answered 200 (${card})`));
  });

  it('3-D Secure on its page: Fail fails the purchase with Stripe\'s reason, Complete credits it', async () => {
    const org = await buyingOrganization(app);
    const failing = await buy(org.ownerToken, org.workspaceId, '10', 'pm_card_authenticationRequired');
    expect(failing.purchase.status).toBe('REQUIRES_ACTION');
    const failingId = failing.clientSecret!.split('_secret_')[0];
    expect(logged).toContain(`PaymentIntent ${failingId} of $10.00 waits for 3-D Secure: open ${payments.url}/3ds/${failingId}, or run: npm run payments:local -- complete ${failingId}`);
    const page = await (await fetch(`${payments.url}/3ds/${failingId}`)).text();
    expect(page).toContain('Your bank asks you to confirm the payment of $10.00');
    expect(page).toContain('<input type="hidden" name="outcome" value="complete"><button>Complete</button>');
    expect(page).toContain('<input type="hidden" name="outcome" value="fail"><button>Fail</button>');
    await eventually(async () => logged.includes(`Webhook payment_intent.requires_action: answered 200 (${failingId})`));
    const failed = await submit(`${payments.url}/3ds/${failingId}`, { outcome: 'fail' });
    expect(failed.page).toContain('Webhook payment_intent.payment_failed: answered 200');
    expect(await purchaseState(org.ownerToken, failing.purchase.id)).toMatchObject({
      status: 'FAILED',
      failureReason: 'The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.',
      wallet: { balance: '0' },
    });

    const passing = await buy(org.ownerToken, org.workspaceId, '10', 'pm_card_authenticationRequired');
    const completed = await submit(`${payments.url}/3ds/${passing.clientSecret}`, { outcome: 'complete' });
    expect(completed.page).toContain('Webhook payment_intent.succeeded: answered 200');
    expect(await purchaseState(org.ownerToken, passing.purchase.id)).toMatchObject({ status: 'SUCCEEDED', wallet: { balance: '10' } });
    expect((await submit(`${payments.url}/3ds/${passing.clientSecret}`, { outcome: 'complete' })).page).toContain(
      'This PaymentIntent does not wait for 3-D Secure: it has status succeeded.',
    );
  });

  it('3-D Secure from the command line: fail', async () => {
    const org = await buyingOrganization(app);
    const { purchase, clientSecret } = await buy(org.ownerToken, org.workspaceId, '10', 'pm_card_authenticationRequired');
    const run = await paymentsLocal(['fail', clientSecret!], { PAYMENTS_LOCAL_PORT: String(port) });
    expect(run).toEqual({
      code: 0,
      stdout: `PaymentIntent ${clientSecret!.split('_secret_')[0]} requires_payment_method: The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.\nWebhook payment_intent.payment_failed: answered 200\n`,
      stderr: '',
    });
    expect(await purchaseState(org.ownerToken, purchase.id)).toMatchObject({ status: 'FAILED' });
  });

  it('sends a declined payment as payment_intent.payment_failed, and says so', async () => {
    const org = await buyingOrganization(app);
    const { purchase } = await buy(org.ownerToken, org.workspaceId, '10', 'pm_card_chargeDeclined');
    expect(purchase.status).toBe('FAILED');
    const intent = [...payments.paymentIntents.values()].find((candidate) => candidate.metadata.purchase_id === purchase.id)!;
    expect(logged).toContain(`PaymentIntent ${intent.id} of $10.00: declined (Your card was declined.)`);
    await eventually(async () => logged.includes(`Webhook payment_intent.payment_failed: answered 200 (${intent.id})`));
  });

  it('refunds through its API as Stripe does; tollgate takes the credits back when charge.refunded comes', async () => {
    const org = await buyingOrganization(app);
    const { purchase } = await buy(org.ownerToken, org.workspaceId, '50', 'pm_card_visa');
    const intent = [...payments.paymentIntents.values()].find((candidate) => candidate.metadata.purchase_id === purchase.id)!;
    const stripe = new Stripe(payments.secretKey, { host: '127.0.0.1', port, protocol: 'http' });
    expect(await stripe.refunds.create({ payment_intent: intent.id, amount: 2000 })).toMatchObject({ object: 'refund', amount: 2000, status: 'succeeded' });
    await expect(stripe.refunds.create({ payment_intent: intent.id, amount: 3001 })).rejects.toThrow(
      'Refund amount ($30.01) is greater than unrefunded amount on charge ($30.00)',
    );
    await expect(stripe.refunds.create({ payment_intent: intent.id, amount: 0 })).rejects.toThrow('Invalid positive integer: 0');
    // The webhook follows the API's answer. $20 of $50 goes back, and the same share of its $5 bonus.
    const refunded = await eventually(async () => {
      const state = await purchaseState(org.ownerToken, purchase.id);
      return state.refunded !== '0' && state;
    });
    expect(refunded).toMatchObject({ refunded: '20', wallet: { balance: '33' } });
    const invoice = [...payments.invoices.values()].find((candidate) => candidate.metadata.purchase_id === purchase.id)!;
    expect(logged).toEqual(
      expect.arrayContaining([
        `PaymentIntent ${intent.id} of $50.00: succeeded`,
        `Invoice ${invoice.number} of $50.00 paid: ${payments.url}/invoices/${invoice.id}`,
        expect.stringMatching(new RegExp(`^Refund re_\\w+ of \\$20\\.00 on ${intent.id}$`)),
        `Webhook charge.refunded: answered 200 (${intent.latest_charge})`,
      ]),
    );
  });

  it('shows each invoice as a page at its invoicePdf, addressed from the billing profile', async () => {
    const org = await organizationWithWorkspace(app);
    await app.data(
      `mutation ($input: BillingProfileUpdateInput!) { billingProfileUpdate(input: $input) { userErrors { code } } }`,
      { input: { name: 'ACME <GmbH>', address: { line1: 'Alexanderplatz 1', city: 'Berlin', postalCode: '10178', country: 'DE' } } },
      org.ownerToken,
    );
    const { purchase } = await buy(org.ownerToken, org.workspaceId, '100', 'pm_card_visa');
    expect(purchase.invoicePdf).toMatch(new RegExp(`^${payments.url}/invoices/in_\\w+$`));
    const response = await fetch(purchase.invoicePdf!);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const page = await response.text();
    const number = [...payments.invoices.values()].find((invoice) => invoice.metadata.purchase_id === purchase.id)!.number;
    expect(page).toContain(`<h1>Invoice ${number}</h1><p>Status: paid</p>`);
    expect(page).toContain('<p>ACME &lt;GmbH&gt;<br>Alexanderplatz 1<br>10178 Berlin<br>DE</p>');
    expect(page).toContain('<td>Credit purchase: $100 of credits and $15 bonus credits</td><td>$100.00</td>');
  });

  it('takes a customer it does not know (tollgate made it before a restart) as a new one; the cards it forgot can be removed', async () => {
    const org = await organizationWithWorkspace(app);
    const { paymentMethodSetupStart: before } = await app.data(`mutation { paymentMethodSetupStart(input: {}) { clientSecret } }`, {}, org.ownerToken);
    const card = (await payments.confirmSetup(before.clientSecret, 'pm_card_visa')).object.payment_method;
    await payments.close();
    payments = await start();
    const { paymentMethodSetupStart } = await app.data(`mutation { paymentMethodSetupStart(input: {}) { clientSecret userErrors { code } } }`, {}, org.ownerToken);
    expect(paymentMethodSetupStart).toEqual({ clientSecret: expect.stringMatching(/^seti_\w+_secret_\w+$/), userErrors: [] });
    expect(logged.some((line) => /^Customer cus_\w+ is not known \(it was made before a restart\): taken as a new customer$/.test(line))).toBe(true);
    const { paymentMethodRemove } = await app.data(
      `mutation ($input: PaymentMethodRemoveInput!) { paymentMethodRemove(input: $input) { removedId userErrors { code } } }`,
      { input: { paymentMethodId: card } },
      org.ownerToken,
    );
    expect(paymentMethodRemove).toEqual({ removedId: card, userErrors: [] });
  });
});

describe('webhook delivery', () => {
  it('signs each event as Stripe does and delivers it again until the endpoint takes it', async () => {
    const received: Array<{ body: string; signature: string }> = [];
    let secondArrived!: () => void;
    const second = new Promise<void>((resolve) => (secondArrived = resolve));
    const endpoint = createServer(async (request, response) => {
      let body = '';
      for await (const chunk of request) body += chunk;
      received.push({ body, signature: String(request.headers['stripe-signature']) });
      // Down at first, then up.
      response.writeHead(received.length === 1 ? 503 : 200).end();
      if (received.length === 2) secondArrived();
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    const secret = 'whsec_delivery_test';
    const payments = await startPaymentsServer({ webhook: { url: `http://127.0.0.1:${(endpoint.address() as { port: number }).port}/hook`, secret } });
    try {
      const { port } = new URL(payments.url);
      const stripe = new Stripe(payments.secretKey, { host: '127.0.0.1', port: Number(port), protocol: 'http' });
      const customer = await stripe.customers.create({ name: 'Card holder' });
      const setupIntent = await stripe.setupIntents.create({ customer: customer.id });
      const { delivery } = await payments.confirmSetup(setupIntent.client_secret!, 'pm_card_visa');
      expect(delivery).toMatchObject({ type: 'setup_intent.succeeded', status: 503 });
      await second;
      const events = received.map(({ body, signature }) => stripe.webhooks.constructEvent(body, signature, secret));
      expect(events.map((event) => [event.id, event.type, (event.data.object as Stripe.SetupIntent).status])).toEqual([
        [delivery!.eventId, 'setup_intent.succeeded', 'succeeded'],
        [delivery!.eventId, 'setup_intent.succeeded', 'succeeded'],
      ]);
      expect(() => stripe.webhooks.constructEvent(received[0].body, received[0].signature, 'whsec_another')).toThrow(Stripe.errors.StripeSignatureVerificationError);
    } finally {
      await payments.close();
      endpoint.close();
    }
  });
});
