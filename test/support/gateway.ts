import { ADMIN_TOKEN, GATEWAY_TOKEN, type GraphQLClient, type TestApp } from './app';
import { createOrganization, createWorkspace, expectNoUserErrors, fund, type OrgFixture, unique, type WorkspaceFixture } from './fixtures';

/** $1 per 1M input tokens, $2 per 1M output tokens; with the default 10% markup 1,000 input tokens cost $0.0011. */
export const PRICE = { inputPricePerMillion: '1', outputPricePerMillion: '2' };
export const COST_OF_1000_INPUT = 1_100_000n;

export async function setModelPrice(app: GraphQLClient, model: string, price = PRICE): Promise<void> {
  const { modelPriceSet } = await app.data(
    `mutation ($input: ModelPriceSetInput!) { modelPriceSet(input: $input) { userErrors { code message } } }`,
    { input: { model, ...price } },
    ADMIN_TOKEN,
  );
  expectNoUserErrors(modelPriceSet);
}

export interface KeyOptions {
  projectId?: string;
  budget?: { amount: string; period: string };
  tokenBudget?: { amount: string; period: string };
  requestsPerMinute?: number;
  expiresAt?: string;
}

export async function createApiKey(app: GraphQLClient, token: string, workspaceId: string, options: KeyOptions = {}) {
  const { apiKeyCreate } = await app.data(
    `mutation ($input: ApiKeyCreateInput!) { apiKeyCreate(input: $input) { apiKey { id } secret userErrors { code message } } }`,
    { input: { workspaceId, name: unique('key'), ...options } },
    token,
  );
  expectNoUserErrors(apiKeyCreate);
  return { apiKeyId: apiKeyCreate.apiKey.id as string, secret: apiKeyCreate.secret as string };
}

export interface GatewayFixture extends OrgFixture, WorkspaceFixture {
  model: string;
  apiKeyId: string;
  secret: string;
}

/** An organization whose workspace wallet holds `funds`, a priced model and a key with `options`. */
export async function gatewaySetup(app: GraphQLClient, funds: string | null, options: KeyOptions = {}): Promise<GatewayFixture> {
  const org = await createOrganization(app);
  const workspace = await createWorkspace(app, org.ownerToken);
  if (funds) await fund(app, workspace.walletId, funds);
  const model = unique('model').replace(' ', '-');
  await setModelPrice(app, model);
  const key = await createApiKey(app, org.ownerToken, workspace.workspaceId, options);
  return { ...org, ...workspace, model, ...key };
}

const ANSWER = 'allowed denial { code message httpStatus retryAfterSeconds } availableBalance';
const LIMITS = 'limits { costRemaining tokensRemaining requestsRemaining resetAt }';

export const DEBIT = `mutation ($input: GatewayDebitInput!) { gatewayDebit(input: $input) { ${ANSWER} cost transactionId ${LIMITS} } }`;
export const DEBIT_BATCH = `mutation ($input: GatewayDebitBatchInput!) { gatewayDebitBatch(input: $input) { results { ${ANSWER} cost transactionId } } }`;
export const AUTHORIZE = `mutation ($input: GatewayAuthorizeInput!) { gatewayAuthorize(input: $input) { ${ANSWER} hold { id amount expiresAt } ${LIMITS} } }`;
export const CAPTURE = `mutation ($input: GatewayCaptureInput!) { gatewayCapture(input: $input) { ${ANSWER} cost charged transactionId hold { id amount } } }`;
export const RELEASE = `mutation ($input: GatewayReleaseInput!) { gatewayRelease(input: $input) { ${ANSWER} hold { id amount } } }`;

let counter = 0;
/** A fresh idempotency key. */
export function requestKey(): string {
  counter += 1;
  return `req-${process.pid}-${Date.now()}-${counter}`;
}

/** One gatewayDebit through HTTP with the gateway token; fails the test on top-level errors. */
export async function debit(app: GraphQLClient, fixture: Pick<GatewayFixture, 'secret' | 'model'>, input: Record<string, unknown> = {}) {
  const { gatewayDebit } = await app.data(
    DEBIT,
    { input: { apiKey: fixture.secret, model: fixture.model, idempotencyKey: requestKey(), inputTokens: 1000, outputTokens: 0, ...input } },
    GATEWAY_TOKEN,
  );
  return gatewayDebit;
}

export async function authorize(app: GraphQLClient, fixture: Pick<GatewayFixture, 'secret' | 'model'>, input: Record<string, unknown> = {}) {
  const { gatewayAuthorize } = await app.data(
    AUTHORIZE,
    { input: { apiKey: fixture.secret, model: fixture.model, idempotencyKey: requestKey(), ...input } },
    GATEWAY_TOKEN,
  );
  return gatewayAuthorize;
}

/** Balance, held amount and ledger sum of a wallet, straight from the database. */
export async function walletState(app: TestApp, walletId: string) {
  const [row] = await app.orm.em.fork().execute(
    `select w.balance::text as balance, w.held::text as held, coalesce(sum(t.amount), 0)::text as sum,
            count(t.id) filter (where t.type = 'DEDUCTION')::int as deductions
       from wallets w left join transactions t on t.wallet_id = w.id where w.id = ? group by w.id`,
    [walletId],
  );
  return { balance: BigInt(row.balance), held: BigInt(row.held), sum: BigInt(row.sum), deductions: row.deductions as number };
}

export interface DebitBody {
  data?: { gatewayDebit: { allowed: boolean; transactionId: string | null; denial: { code: string } | null } } | null;
  errors?: Array<{ message: string; extensions: { code: string } }>;
}

/** One gatewayDebit of 1,000 input tokens (and `extra`) POSTed to the server at `baseUrl`: the answer's body. */
export async function postDebit(baseUrl: string, fixture: Pick<GatewayFixture, 'secret' | 'model'>, extra: Record<string, unknown> = {}): Promise<DebitBody> {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${GATEWAY_TOKEN}` },
    body: JSON.stringify({
      query: DEBIT,
      variables: { input: { apiKey: fixture.secret, model: fixture.model, idempotencyKey: requestKey(), inputTokens: 1000, outputTokens: 0, ...extra } },
    }),
  });
  return (await response.json()) as DebitBody;
}

/** Sends `calls` equal debits at once, spread over the given servers, and counts the answers. */
export async function debitAtOnce(urls: string[], fixture: Pick<GatewayFixture, 'secret' | 'model'>, calls: number, extra: Record<string, unknown> = {}) {
  const results = await Promise.all(
    Array.from({ length: calls }, async (_, i) => {
      const body = await postDebit(urls[i % urls.length], fixture, extra);
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return body.data!.gatewayDebit;
    }),
  );
  const denials = new Map<string, number>();
  for (const result of results) if (result.denial) denials.set(result.denial.code, (denials.get(result.denial.code) ?? 0) + 1);
  return { allowed: results.filter((result) => result.allowed).length, denials };
}
