import { ADMIN_TOKEN, type GraphQLResult, subscriptionClient, useTestApp, wsResult } from './support/app';
import { MEMBER_CREATE, PROJECT_CREATE } from './support/fixtures';

const app = useTestApp();

const API_KEY_CREATE = 'mutation ($input: ApiKeyCreateInput!) { apiKeyCreate(input: $input) { userErrors { code } } }';
const AUTO_TOP_UP_UPDATE = 'mutation ($input: AutoTopUpUpdateInput!) { autoTopUpUpdate(input: $input) { userErrors { code } } }';
const ROUTING_MARKUP_SET = 'mutation ($input: RoutingMarkupSetInput!) { routingMarkupSet(input: $input) { userErrors { code } } }';
const METER_REPORT = 'mutation ($input: GatewayMeterReportInput!) { gatewayMeterReport(input: $input) { allowed } }';
const USAGE = 'query ($groupBy: [UsageGroup!]!, $filter: UsageFilterInput!) { usage(groupBy: $groupBy, filter: $filter) { total { cost } } }';
const TRANSACTIONS = 'query ($id: ID!, $filter: TransactionFilter) { node(id: $id) { ... on Wallet { transactions(filter: $filter) { nodes { id } } } } }';
// With an Int variable (a page size) the cost is judged on the variables each time: on mistaken ones too.
const PURCHASES = 'query ($kinds: [PurchaseKind!], $first: Int) { organization { purchases(kinds: $kinds, first: $first) { nodes { id } } } }';

const key = (change: Record<string, unknown>) => ({ input: { workspaceId: 'ws_x', name: 'key', ...change } });
const day = { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' };

/** [input type, what is wrong, document, variables, the message]: the same mistakes written inline are refused by validation. */
const mistakes: Array<[string, string, string, Record<string, unknown>, RegExp]> = [
  ['Money', 'a JSON number', API_KEY_CREATE, key({ budget: { amount: 12.5, period: 'MONTHLY' } }), /"input.budget.amount"; Money must be a decimal string such as "12.5", not a number$/],
  ['Money', 'an exponent', API_KEY_CREATE, key({ budget: { amount: '1e3', period: 'MONTHLY' } }), /"input.budget.amount"; Money must be a decimal string/],
  ['TokenCount', 'a negative string', API_KEY_CREATE, key({ tokenBudget: { amount: '-1', period: 'MONTHLY' } }), /"input.tokenBudget.amount"; TokenCount cannot be negative \(got "-1"\)$/],
  ['TokenCount', 'a fraction', API_KEY_CREATE, key({ tokenBudget: { amount: '1.5', period: 'MONTHLY' } }), /TokenCount must be a whole number, without fraction or exponent \(got "1.5"\)$/],
  ['TokenCount', 'hexadecimal', API_KEY_CREATE, key({ tokenBudget: { amount: '0x10', period: 'MONTHLY' } }), /TokenCount must be a string of digits such as "150000" \(got "0x10"\)$/],
  ['TokenCount', 'a fractional JSON number', API_KEY_CREATE, key({ tokenBudget: { amount: 1.5, period: 'MONTHLY' } }), /TokenCount must be a whole number, without fraction \(got 1.5\)$/],
  ['Count', 'a fraction', METER_REPORT, { input: { apiKey: 'k', idempotencyKey: 'i', meter: 'trace', quantity: '2.5' } }, /"input.quantity"; Count must be a whole number, without fraction or exponent \(got "2.5"\)$/],
  ['Int', 'words', API_KEY_CREATE, key({ requestsPerMinute: 'ten' }), /"input.requestsPerMinute"; Int cannot represent non-integer value: "ten"$/],
  ['Int', 'a fraction', PURCHASES, { first: 2.5 }, /^Variable "\$first" got invalid value 2.5; Int cannot represent non-integer value: 2.5$/],
  ['DateTimeISO', 'words', API_KEY_CREATE, key({ expiresAt: 'tomorrow' }), /"input.expiresAt"; DateTime cannot represent an invalid date-time-string tomorrow.$/],
  ['ID', 'an object', API_KEY_CREATE, key({ workspaceId: { id: 1 } }), /"input.workspaceId"; ID cannot represent value/],
  ['String', 'a number', API_KEY_CREATE, key({ name: 42 }), /"input.name"; String cannot represent a non string value: 42$/],
  ['Boolean', 'a string', AUTO_TOP_UP_UPDATE, { input: { walletId: 'wal_x', enabled: 'yes' } }, /"input.enabled"; Boolean cannot represent a non boolean value: "yes"$/],
  ['MemberRole', 'an unknown value', MEMBER_CREATE, { input: { name: 'N', email: 'n@example.com', role: 'KING' } }, /Value "KING" does not exist in "MemberRole" enum/],
  ['BudgetPeriod', 'an unknown value', PROJECT_CREATE, { input: { workspaceId: 'ws_x', name: 'P', budget: { amount: '1', period: 'HOURLY' } } }, /Value "HOURLY" does not exist in "BudgetPeriod" enum/],
  ['RoutingMode', 'an unknown value', ROUTING_MARKUP_SET, { input: { mode: 'CHEAPEST', markupBasisPoints: 0 } }, /Value "CHEAPEST" does not exist in "RoutingMode" enum/],
  ['UsageGroup', 'an unknown value', USAGE, { groupBy: ['WEEK'], filter: day }, /Value "WEEK" does not exist in "UsageGroup" enum/],
  ['TransactionType', 'an unknown value', TRANSACTIONS, { id: 'wal_x', filter: { types: ['GIFT'] } }, /Value "GIFT" does not exist in "TransactionType" enum/],
  ['PurchaseKind', 'a number', PURCHASES, { kinds: [1] }, /Enum "PurchaseKind" cannot represent non-string value: 1/],
  ['ApiKeyCreateInput', 'a required variable left out', API_KEY_CREATE, {}, /^Variable "\$input" of required type "ApiKeyCreateInput!" was not provided\.$/],
  ['ApiKeyCreateInput', 'a required variable given as null', API_KEY_CREATE, { input: null }, /^Variable "\$input" of non-null type "ApiKeyCreateInput!" must not be null\.$/],
];

describe('a mistake in the variables', () => {
  let client: ReturnType<typeof subscriptionClient>;
  beforeAll(() => {
    client = subscriptionClient(app, ADMIN_TOKEN);
  });
  afterAll(() => client.dispose());

  it.each(mistakes)('%s, %s: 400 BAD_USER_INPUT with the message, the same over graphql-ws', async (_type, _what, query, variables, message) => {
    const http = await app.gql(query, variables, ADMIN_TOKEN);
    expect(http.status).toBe(400);
    expect(http.data).toBeUndefined();
    expect(http.errors).toEqual([{ message: expect.stringMatching(message), locations: [{ line: 1, column: expect.any(Number) }], extensions: { code: 'BAD_USER_INPUT' } }]);
    const overWs = await wsResult(client, query, variables);
    expect(overWs).toEqual({ errors: http.errors });
  });

  it('a syntax error answers that operation, like HTTP, and leaves the connection open for the next', async () => {
    const broken = '{ viewer { kind }';
    const http = await app.gql(broken, {}, ADMIN_TOKEN);
    expect(http.status).toBe(400);
    expect(http.errors).toEqual([expect.objectContaining({ extensions: { code: 'GRAPHQL_PARSE_FAILED' } })]);
    expect(await wsResult(client, broken, {})).toEqual({ errors: [{ message: http.errors![0].message, locations: expect.any(Array), extensions: { code: 'GRAPHQL_PARSE_FAILED' } }] });
    expect(await wsResult(client, '{ viewer { kind } }', {})).toEqual({ data: { viewer: { kind: 'PLATFORM_ADMIN' } } });
  });

  it('is covered above for every scalar and enum that an input of the schema takes', async () => {
    const { data } = (await app.gql(`{ __schema { types { kind name fields { args { type { ...named } } } inputFields { type { ...named } } } } }
      fragment named on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }`)) as GraphQLResult<{ __schema: { types: any[] } }>;
    const named = (type: any): any => (type.ofType ? named(type.ofType) : type);
    const inputTypes = new Set<string>();
    for (const type of data!.__schema.types.filter((type) => !type.name.startsWith('__'))) {
      const used = [...(type.fields ?? []).flatMap((field: any) => field.args), ...(type.inputFields ?? [])].map((value) => named(value.type));
      for (const input of used) if (input.kind === 'SCALAR' || input.kind === 'ENUM') inputTypes.add(input.name);
    }
    expect(inputTypes.size).toBeGreaterThan(10);
    expect([...inputTypes].filter((name) => !mistakes.some(([type]) => type === name))).toEqual([]);
  });
});
