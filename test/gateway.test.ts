import { formatMoney } from '../src/money';
import { DenialCode, denial, emptyOutcome, type GatewayOutcome, outcomeFromJson, outcomeToJson } from '../src/gateway/contract';
import { ADMIN_TOKEN, GATEWAY_TOKEN, useTestApp } from './support/app';
import { createWorkspace, fund, TRANSFER } from './support/fixtures';
import {
  AUTHORIZE,
  authorize,
  CAPTURE,
  COST_OF_1000_INPUT,
  createApiKey,
  debit,
  DEBIT,
  DEBIT_BATCH,
  gatewaySetup,
  RELEASE,
  requestKey,
  walletState,
} from './support/gateway';

const app = useTestApp();

describe('gateway authentication', () => {
  it('answers only to a gateway token', async () => {
    const fixture = await gatewaySetup(app, '1');
    const input = { apiKey: fixture.secret, model: fixture.model, idempotencyKey: requestKey(), inputTokens: 1, outputTokens: 1 };
    expect((await app.gql(DEBIT, { input })).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect((await app.gql(DEBIT, { input }, fixture.ownerToken)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await app.gql(DEBIT, { input }, ADMIN_TOKEN)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await walletState(app, fixture.walletId)).deductions).toBe(0);
  });
});

describe('gatewayDebit', () => {
  it('charges the priced cost with the markup, as one DEDUCTION row that records the usage', async () => {
    const fixture = await gatewaySetup(app, '1');
    const answer = await debit(app, fixture, { inputTokens: 1234, outputTokens: 567, identity: 'user-42' });
    // (1234 × $1 + 567 × $2) / 1M × 1.10 = $0.0026048
    expect(answer).toMatchObject({ allowed: true, denial: null, cost: '0.0026048', availableBalance: '0.9973952' });
    const [row] = await app.orm.em.fork().execute(
      `select t.type, t.amount::text, t.balance_after::text, t.api_key_id, t.model, t.input_tokens::int, t.output_tokens::int,
              t.project_id, t.hold_id, i.external_id
         from transactions t left join identities i on i.id = t.identity_id where t.id = ?`,
      [answer.transactionId],
    );
    expect(row).toEqual({
      type: 'DEDUCTION',
      amount: '-2604800',
      balance_after: '997395200',
      api_key_id: fixture.apiKeyId,
      model: fixture.model,
      input_tokens: 1234,
      output_tokens: 567,
      project_id: null,
      hold_id: null,
      external_id: 'user-42',
    });
  });

  it('rounds the cost half up to the nano-USD', async () => {
    const fixture = await gatewaySetup(app, '1');
    // 1 input token: $0.000001 × 1.1 = 1,100 nano; 1 output token at $2/M × 1.1 = 2,200 nano.
    expect((await debit(app, fixture, { inputTokens: 1, outputTokens: 0 })).cost).toBe('0.0000011');
    const cheap = await gatewaySetup(app, '1');
    await app.data(
      `mutation { modelPriceSet(input: { model: "${cheap.model}", inputPricePerMillion: "0.000000001", outputPricePerMillion: "0" }) { userErrors { code } } }`,
      {},
      ADMIN_TOKEN,
    );
    // 500,000 tokens × 1 nano per 1M = 0.5 nano × 1.1 = 0.55 → 1 nano; 400,000 → 0.44 → 0.
    expect((await debit(app, cheap, { inputTokens: 500_000 })).cost).toBe('0.000000001');
    expect((await debit(app, cheap, { inputTokens: 400_000 })).cost).toBe('0');
  });
});

describe('denials, each with the HTTP status of the contract', () => {
  // An expired key: test/gateway-clock.test.ts, on the injected clock.
  it('INVALID_API_KEY 401 for an unknown or revoked key', async () => {
    const fixture = await gatewaySetup(app, '1');
    expect((await debit(app, { ...fixture, secret: 'tg_not-a-key' })).denial).toMatchObject({ code: 'INVALID_API_KEY', httpStatus: 401 });
    await app.data(`mutation ($id: ID!) { apiKeyRevoke(input: { apiKeyId: $id }) { userErrors { code } } }`, { id: fixture.apiKeyId }, fixture.ownerToken);
    expect((await debit(app, fixture)).denial).toMatchObject({ code: 'INVALID_API_KEY', httpStatus: 401 });
  });

  it('INSUFFICIENT_CREDITS 402 with the message of the contract', async () => {
    const fixture = await gatewaySetup(app, null);
    expect((await debit(app, fixture)).denial).toEqual({
      code: 'INSUFFICIENT_CREDITS',
      httpStatus: 402,
      message: 'Insufficient credits. Please top up your account.',
      retryAfterSeconds: null,
    });
  });

  it('KEY_COST_LIMIT_REACHED and KEY_TOKEN_LIMIT_REACHED 429', async () => {
    const costly = await gatewaySetup(app, '1', { budget: { amount: formatMoney(COST_OF_1000_INPUT), period: 'MONTHLY' } });
    expect((await debit(app, costly)).allowed).toBe(true);
    expect((await debit(app, costly)).denial).toMatchObject({ code: 'KEY_COST_LIMIT_REACHED', httpStatus: 429 });
    const wordy = await gatewaySetup(app, '1', { tokenBudget: { amount: '1500', period: 'MONTHLY' } });
    expect((await debit(app, wordy)).allowed).toBe(true);
    expect((await debit(app, wordy)).denial).toMatchObject({ code: 'KEY_TOKEN_LIMIT_REACHED', httpStatus: 429 });
    expect((await debit(app, wordy, { inputTokens: 500 })).allowed).toBe(true);
  });

  it('KEY_RATE_LIMITED 429 with retryAfterSeconds', async () => {
    const fixture = await gatewaySetup(app, '1', { requestsPerMinute: 2 });
    expect((await debit(app, fixture)).allowed).toBe(true);
    expect((await debit(app, fixture)).allowed).toBe(true);
    const denied = await debit(app, fixture);
    expect(denied.denial).toMatchObject({ code: 'KEY_RATE_LIMITED', httpStatus: 429 });
    expect(denied.denial.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(denied.denial.retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it('IDENTITY_BUDGET_EXCEEDED and PROJECT_BUDGET_EXCEEDED 429', async () => {
    const fixture = await gatewaySetup(app, '1');
    await app.data(
      `mutation ($input: IdentityUpsertInput!) { identityUpsert(input: $input) { userErrors { code } } }`,
      { input: { workspaceId: fixture.workspaceId, externalId: 'alice', budget: { amount: formatMoney(COST_OF_1000_INPUT), period: 'DAILY' } } },
      fixture.ownerToken,
    );
    expect((await debit(app, fixture, { identity: 'alice' })).allowed).toBe(true);
    expect((await debit(app, fixture, { identity: 'alice' })).denial).toMatchObject({ code: 'IDENTITY_BUDGET_EXCEEDED', httpStatus: 429 });
    expect((await debit(app, fixture, { identity: 'bob' })).allowed).toBe(true);

    const { projectCreate } = await app.data(
      `mutation ($input: ProjectCreateInput!) { projectCreate(input: $input) { project { id } userErrors { code } } }`,
      { input: { workspaceId: fixture.workspaceId, name: 'capped', budget: { amount: formatMoney(COST_OF_1000_INPUT), period: 'MONTHLY' } } },
      fixture.ownerToken,
    );
    const projectKey = await createApiKey(app, fixture.ownerToken, fixture.workspaceId, { projectId: projectCreate.project.id });
    const viaProject = { ...fixture, secret: projectKey.secret };
    expect((await debit(app, viaProject)).allowed).toBe(true);
    expect((await debit(app, viaProject)).denial).toMatchObject({ code: 'PROJECT_BUDGET_EXCEEDED', httpStatus: 429 });
  });

  it('UNKNOWN_MODEL 400', async () => {
    const fixture = await gatewaySetup(app, '1');
    expect((await debit(app, fixture, { model: 'no-such-model' })).denial).toMatchObject({ code: 'UNKNOWN_MODEL', httpStatus: 400 });
  });

  it('IDEMPOTENCY_KEY_REUSED 409 for the same key with a different request, changing nothing', async () => {
    const fixture = await gatewaySetup(app, '1');
    const first = await debit(app, fixture, { idempotencyKey: 'same' });
    expect(first.allowed).toBe(true);
    expect((await debit(app, fixture, { idempotencyKey: 'same', inputTokens: 999 })).denial).toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
      httpStatus: 409,
    });
    expect(await walletState(app, fixture.walletId)).toMatchObject({ deductions: 1 });
  });
});

describe('idempotent retries: one charge, the first answer', () => {
  it('stores an answer compactly and reads it back whole', () => {
    const full: GatewayOutcome = {
      allowed: true,
      denial: denial(DenialCode.KEY_RATE_LIMITED, 3),
      cost: 5n,
      charged: 0n,
      transactionId: 'txn_1',
      hold: { id: 'hold_1', amount: 10n ** 18n, expiresAt: new Date(1) },
      availableBalance: -7n,
      limits: { costRemaining: 1n, tokensRemaining: 2n, requestsRemaining: 0, resetAt: new Date(2) },
      metered: { billedQuantity: 3n, includedRemaining: 0n },
    };
    const sparse: GatewayOutcome = { ...emptyOutcome(), allowed: true, limits: { costRemaining: null, tokensRemaining: null, requestsRemaining: null, resetAt: new Date(3) } };
    for (const outcome of [full, sparse, emptyOutcome()]) expect(outcomeFromJson(JSON.parse(JSON.stringify(outcomeToJson(outcome))))).toEqual(outcome);
    expect(JSON.stringify(outcomeToJson(sparse))).not.toMatch(/null/);
  });

  it('gatewayDebit, also when the retries arrive together', async () => {
    const fixture = await gatewaySetup(app, '1');
    const answers = await Promise.all(Array.from({ length: 20 }, () => debit(app, fixture, { idempotencyKey: 'retried' })));
    expect(new Set(answers.map((answer) => answer.transactionId)).size).toBe(1);
    expect(answers.every((answer) => answer.allowed)).toBe(true);
    expect(await walletState(app, fixture.walletId)).toMatchObject({ deductions: 1, balance: 1_000_000_000n - COST_OF_1000_INPUT });
  });

  it('a refusal changed nothing, so its retry is judged afresh', async () => {
    const fixture = await gatewaySetup(app, null);
    expect((await debit(app, fixture, { idempotencyKey: 'poor' })).denial.code).toBe('INSUFFICIENT_CREDITS');
    await fund(app, fixture.walletId, '1');
    const retried = await debit(app, fixture, { idempotencyKey: 'poor' });
    expect(retried.allowed).toBe(true);
    expect(await debit(app, fixture, { idempotencyKey: 'poor' })).toEqual(retried);
    expect(await walletState(app, fixture.walletId)).toMatchObject({ deductions: 1 });
  });

  it('a capture bills the price and markup of its authorization, even if the price changed or went', async () => {
    const fixture = await gatewaySetup(app, '1');
    const held = await authorize(app, fixture, { maxInputTokens: 1000 });
    await app.data(`mutation ($m: String!) { modelPriceRemove(input: { model: $m }) { userErrors { code } } }`, { m: fixture.model }, ADMIN_TOKEN);
    const captured = await app.data(CAPTURE, { input: { holdId: held.hold.id, inputTokens: 1000, outputTokens: 0 } }, GATEWAY_TOKEN);
    expect(captured.gatewayCapture).toMatchObject({ allowed: true, cost: '0.0011', charged: '0.0011' });
  });

  it('gatewayDebitBatch', async () => {
    const fixture = await gatewaySetup(app, '1');
    const inputs = [0, 1, 2].map((i) => ({ apiKey: fixture.secret, model: fixture.model, idempotencyKey: `b${i}`, inputTokens: 1000, outputTokens: 0 }));
    const first = await app.data(DEBIT_BATCH, { input: { debits: inputs } }, GATEWAY_TOKEN);
    const second = await app.data(DEBIT_BATCH, { input: { debits: inputs } }, GATEWAY_TOKEN);
    expect(second).toEqual(first);
    expect(await walletState(app, fixture.walletId)).toMatchObject({ deductions: 3 });
  });

  it('gatewayAuthorize, gatewayCapture and gatewayRelease', async () => {
    const fixture = await gatewaySetup(app, '1');
    const authorizeInput = { apiKey: fixture.secret, model: fixture.model, idempotencyKey: 'auth', maxInputTokens: 1000 };
    const held = await app.data(AUTHORIZE, { input: authorizeInput }, GATEWAY_TOKEN);
    expect(await app.data(AUTHORIZE, { input: authorizeInput }, GATEWAY_TOKEN)).toEqual(held);
    expect((await walletState(app, fixture.walletId)).held).toBe(COST_OF_1000_INPUT);

    const captureInput = { holdId: held.gatewayAuthorize.hold.id, inputTokens: 500, outputTokens: 0 };
    const captured = await app.data(CAPTURE, { input: captureInput }, GATEWAY_TOKEN);
    expect(await app.data(CAPTURE, { input: captureInput }, GATEWAY_TOKEN)).toEqual(captured);
    expect((await app.data(CAPTURE, { input: { ...captureInput, inputTokens: 600 } }, GATEWAY_TOKEN)).gatewayCapture.denial.code).toBe(
      'IDEMPOTENCY_KEY_REUSED',
    );
    expect(await walletState(app, fixture.walletId)).toMatchObject({ deductions: 1, held: 0n });

    const other = await authorize(app, fixture, { maxInputTokens: 1000 });
    const released = await app.data(RELEASE, { input: { holdId: other.hold.id } }, GATEWAY_TOKEN);
    expect(await app.data(RELEASE, { input: { holdId: other.hold.id } }, GATEWAY_TOKEN)).toEqual(released);
    expect((await app.data(CAPTURE, { input: { holdId: other.hold.id, inputTokens: 1, outputTokens: 0 } }, GATEWAY_TOKEN)).gatewayCapture.denial.code).toBe(
      'HOLD_NOT_ACTIVE',
    );
    expect(await walletState(app, fixture.walletId)).toMatchObject({ deductions: 1, held: 0n });
  });
});

describe('holds', () => {
  it('reduce the available balance until captured for less, and free the rest', async () => {
    const fixture = await gatewaySetup(app, '0.01');
    const held = await authorize(app, fixture, { maxInputTokens: 1000, maxOutputTokens: 1000 });
    // (1000 × $1 + 1000 × $2) / 1M × 1.1 = $0.0033 held
    expect(held).toMatchObject({ allowed: true, hold: { amount: '0.0033' }, availableBalance: '0.0067' });
    expect((await debit(app, fixture, { inputTokens: 7000 })).denial.code).toBe('INSUFFICIENT_CREDITS');
    const captured = (await app.data(CAPTURE, { input: { holdId: held.hold.id, inputTokens: 1000, outputTokens: 0 } }, GATEWAY_TOKEN))
      .gatewayCapture;
    expect(captured).toMatchObject({ allowed: true, cost: '0.0011', charged: '0.0011', availableBalance: '0.0089' });
    expect(await walletState(app, fixture.walletId)).toEqual({ balance: 8_900_000n, held: 0n, sum: 8_900_000n, deductions: 1 });
    const [row] = await app.orm.em.fork().execute('select hold_id from transactions where id = ?', [captured.transactionId]);
    expect(row.hold_id).toBe(held.hold.id);
  });

  it('capture more than held: charged up to the balance and reported', async () => {
    const fixture = await gatewaySetup(app, '0.002');
    const held = await authorize(app, fixture, { maxInputTokens: 1000 });
    const captured = (await app.data(CAPTURE, { input: { holdId: held.hold.id, inputTokens: 1500, outputTokens: 0 } }, GATEWAY_TOKEN))
      .gatewayCapture;
    expect(captured).toMatchObject({ allowed: true, cost: '0.00165', charged: '0.00165', availableBalance: '0.00035' });
    const greedy = await authorize(app, fixture, { maxInputTokens: 100 });
    const beyond = (await app.data(CAPTURE, { input: { holdId: greedy.hold.id, inputTokens: 5000, outputTokens: 0 } }, GATEWAY_TOKEN))
      .gatewayCapture;
    expect(beyond).toMatchObject({ allowed: true, cost: '0.0055', charged: '0.00035', availableBalance: '0' });
    expect(await walletState(app, fixture.walletId)).toEqual({ balance: 0n, held: 0n, sum: 0n, deductions: 2 });
  });

  it('are not spendable by a transfer or a staff debit', async () => {
    const fixture = await gatewaySetup(app, '1');
    const other = await createWorkspace(app, fixture.ownerToken);
    await authorize(app, fixture, { maxInputTokens: 500_000 }); // holds $0.55
    const transfer = async (amount: string) =>
      (await app.data(TRANSFER, { input: { fromWalletId: fixture.walletId, toWalletId: other.walletId, amount, idempotencyKey: requestKey() } }, fixture.ownerToken))
        .walletTransfer;
    expect((await transfer('0.46')).userErrors[0].code).toBe('INSUFFICIENT_FUNDS');
    expect((await transfer('0.45')).userErrors).toEqual([]);
    expect(await walletState(app, fixture.walletId)).toMatchObject({ balance: 550_000_000n, held: 550_000_000n });
  });

  it('release frees the whole hold', async () => {
    const fixture = await gatewaySetup(app, '1');
    const held = await authorize(app, fixture, { maxInputTokens: 1000 });
    expect(held.availableBalance).toBe('0.9989');
    const released = (await app.data(RELEASE, { input: { holdId: held.hold.id } }, GATEWAY_TOKEN)).gatewayRelease;
    expect(released).toMatchObject({ allowed: true, availableBalance: '1' });
    expect(await walletState(app, fixture.walletId)).toMatchObject({ held: 0n, deductions: 0 });
  });

  it('an unknown hold is HOLD_NOT_FOUND 404', async () => {
    const result = await app.data(RELEASE, { input: { holdId: 'hold_0000000000000000000000' } }, GATEWAY_TOKEN);
    expect(result.gatewayRelease.denial).toMatchObject({ code: 'HOLD_NOT_FOUND', httpStatus: 404 });
  });

  it('an authorization without maxima holds nothing but is refused on an empty wallet', async () => {
    const fixture = await gatewaySetup(app, null);
    expect((await authorize(app, fixture)).denial.code).toBe('INSUFFICIENT_CREDITS');
    await fund(app, fixture.walletId, '0.000000001');
    expect(await authorize(app, fixture)).toMatchObject({ allowed: true, hold: { amount: '0' } });
  });
});

describe('a fault in one request', () => {
  it('fails that request only: the requests decided with it are answered', async () => {
    const fixture = await gatewaySetup(app, '1');
    const em = app.orm.em.fork();
    // A real failure inside PostgreSQL for one end user's first request, nothing mocked.
    await em.execute(`create function refuse_poison() returns trigger language plpgsql as $$
      begin if new.external_id = 'poison' then raise exception 'poisoned'; end if; return new; end $$`);
    await em.execute('create trigger refuse_poison before insert on identities for each row execute function refuse_poison()');
    try {
      const results = await Promise.all(
        Array.from({ length: 21 }, (_, i) =>
          app.gql(
            DEBIT,
            { input: { apiKey: fixture.secret, model: fixture.model, idempotencyKey: requestKey(), inputTokens: 1000, outputTokens: 0, identity: i === 10 ? 'poison' : `user-${i}` } },
            GATEWAY_TOKEN,
          ),
        ),
      );
      expect(results[10].errors?.[0].extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      const others = results.filter((_, i) => i !== 10);
      expect(others.every((result) => result.data?.gatewayDebit.allowed === true)).toBe(true);
      expect(await walletState(app, fixture.walletId)).toMatchObject({ deductions: 20, balance: 1_000_000_000n - 20n * COST_OF_1000_INPUT });
    } finally {
      await em.execute('drop trigger refuse_poison on identities; drop function refuse_poison()');
    }
  });
});

describe('bad input: a clear error, nothing changed', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['negative tokens', { inputTokens: -1 }, /inputTokens must be a whole number/],
    ['absurd tokens', { outputTokens: 2_000_000_000 }, /outputTokens must be a whole number from 0 to 100000000/],
    ['an empty idempotency key', { idempotencyKey: '' }, /idempotencyKey must be 1 to 255 characters/],
    ['a 10 kB idempotency key', { idempotencyKey: 'k'.repeat(10_240) }, /idempotencyKey must be 1 to 255 characters/],
    ['an empty model', { model: '' }, /model must be 1 to 200 characters/],
    ['a NUL in an identity', { identity: 'a\u0000b' }, /^input.identity must not contain control characters other than tab and newline \(found U\+0000\)$/],
    ['half a surrogate pair in a model', { model: 'gpt\ud800' }, /^input.model must be well-formed Unicode/],
    ['a token count beyond Int', { inputTokens: 1e12 }, /Int cannot represent/],
  ];
  it.each(cases)('%s', async (_label, change, message) => {
    const fixture = await gatewaySetup(app, '1');
    const input = { apiKey: fixture.secret, model: fixture.model, idempotencyKey: requestKey(), inputTokens: 1, outputTokens: 1, ...change };
    const result = await app.gql(DEBIT, { input }, GATEWAY_TOKEN);
    expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0].message).toMatch(message);
    expect(await walletState(app, fixture.walletId)).toMatchObject({ balance: 1_000_000_000n, deductions: 0 });
  });

  it('more than 1,000 batch items', async () => {
    const fixture = await gatewaySetup(app, '1');
    const inputs = Array.from({ length: 1001 }, () => ({ apiKey: fixture.secret, model: fixture.model, idempotencyKey: requestKey(), inputTokens: 1, outputTokens: 0 }));
    const result = await app.gql(DEBIT_BATCH, { input: { debits: inputs } }, GATEWAY_TOKEN);
    expect(result.errors?.[0]).toMatchObject({ message: expect.stringMatching(/1 to 1000 debits \(got 1001\)/), extensions: { code: 'BAD_USER_INPUT' } });
    expect(await walletState(app, fixture.walletId)).toMatchObject({ deductions: 0 });
  });

  it('one bad item refuses the whole batch', async () => {
    const fixture = await gatewaySetup(app, '1');
    const good = { apiKey: fixture.secret, model: fixture.model, inputTokens: 1, outputTokens: 0 };
    const inputs = [{ ...good, idempotencyKey: 'g1' }, { ...good, idempotencyKey: 'g2', inputTokens: -5 }];
    const result = await app.gql(DEBIT_BATCH, { input: { debits: inputs } }, GATEWAY_TOKEN);
    expect(result.errors?.[0].message).toMatch(/input\.debits\[1\]\.inputTokens/);
    expect(await walletState(app, fixture.walletId)).toMatchObject({ deductions: 0 });
  });

  it('a malformed hold id', async () => {
    const result = await app.gql(CAPTURE, { input: { holdId: 'wal_x', inputTokens: 1, outputTokens: 1 } }, GATEWAY_TOKEN);
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  });
});
