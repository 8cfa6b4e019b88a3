import { ADMIN_TOKEN, capturedLogger, GATEWAY_TOKEN, startTestApp, subscriptionClient, type TestApp, wsResult } from './support/app';
import { ADJUST, createOrganization, expectNoUserErrors, organizationWithWorkspace, WORKSPACE_CREATE } from './support/fixtures';
import { DEBIT_BATCH, gatewaySetup, requestKey } from './support/gateway';

const log = capturedLogger();
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ logger: log.logger });
});
afterAll(() => app.close());

const CONTROL = 'must not contain control characters other than tab and newline';
const UNPAIRED = 'must be well-formed Unicode (found an unpaired surrogate)';

/** [what, the text, why it is refused] */
const refused: Array<[string, string, string]> = [
  ['a NUL', 'a\u0000b', `${CONTROL} (found U+0000)`],
  ['a bell', 'a\u0007b', `${CONTROL} (found U+0007)`],
  ['an escape sequence', '\u001b[31mred', `${CONTROL} (found U+001B)`],
  ['a carriage return', 'a\rb', `${CONTROL} (found U+000D)`],
  ['DEL', 'a\u007fb', `${CONTROL} (found U+007F)`],
  ['a C1 control', 'a\u0085b', `${CONTROL} (found U+0085)`],
  ['a lone high surrogate', 'a\ud800b', UNPAIRED],
  ['a lone low surrogate', 'ab\udfff', UNPAIRED],
  ['a pair in the wrong order', '\udc00\ud800', UNPAIRED],
];

const workspaceNames = async (organizationId: string) =>
  (await app.orm.em.fork().execute('select name from workspaces where organization_id = ? order by name', [organizationId])).map((row) => row.name);

describe('one rule for every text input', () => {
  it.each(refused)('refuses %s in a variable with BAD_USER_INPUT naming the field, over HTTP and graphql-ws, and stores nothing', async (_what, text, reason) => {
    const org = await createOrganization(app);
    const variables = { input: { name: `Team ${text}` } };
    const expected = [{ message: `input.name ${reason}`, extensions: { code: 'BAD_USER_INPUT', field: ['input', 'name'] } }];
    const http = await app.gql(WORKSPACE_CREATE, variables, org.ownerToken);
    expect(http).toEqual({ status: 400, errors: expected });
    const client = subscriptionClient(app, org.ownerToken);
    try {
      expect(await wsResult(client, WORKSPACE_CREATE, variables)).toEqual({ errors: expected });
    } finally {
      await client.dispose();
    }
    expect(await workspaceNames(org.organizationId)).toEqual([]);
    expect(log.lines().filter((line) => line.level >= 50)).toEqual([]);
  });

  it('refuses the same written in the document, naming the argument or the variable', async () => {
    const org = await createOrganization(app);
    const query = 'mutation { workspaceCreate(input: { name: "Team \\u0000" }) { workspace { id } } }';
    const expected = [{ message: `input.name ${CONTROL} (found U+0000)`, extensions: { code: 'BAD_USER_INPUT', field: ['input', 'name'] } }];
    expect(await app.gql(query, {}, org.ownerToken)).toEqual({ status: 400, errors: expected });
    const client = subscriptionClient(app, org.ownerToken);
    try {
      expect(await wsResult(client, query)).toEqual({ errors: expected });
    } finally {
      await client.dispose();
    }
    const withDefault = 'mutation ($name: String! = "Team \\u0007") { workspaceCreate(input: { name: $name }) { workspace { id } } }';
    expect((await app.gql(withDefault, {}, org.ownerToken)).errors).toEqual([
      { message: `name ${CONTROL} (found U+0007)`, extensions: { code: 'BAD_USER_INPUT', field: ['name'] } },
    ]);
    expect(await workspaceNames(org.organizationId)).toEqual([]);
  });

  it('applies to IDs and to the items of lists: a gateway batch names the item', async () => {
    const byId = await app.gql('query ($id: ID!) { node(id: $id) { id } }', { id: 'wal_\u0000' }, ADMIN_TOKEN);
    expect(byId.errors).toEqual([{ message: `id ${CONTROL} (found U+0000)`, extensions: { code: 'BAD_USER_INPUT', field: ['id'] } }]);

    const fixture = await gatewaySetup(app, '1');
    const debit = { apiKey: fixture.secret, model: fixture.model, inputTokens: 1, outputTokens: 0 };
    const inputs = [{ ...debit, idempotencyKey: requestKey() }, { ...debit, idempotencyKey: `${requestKey()}\ud83d` }];
    const batch = await app.gql(DEBIT_BATCH, { input: { debits: inputs } }, GATEWAY_TOKEN);
    expect(batch.errors).toEqual([{ message: `input.debits[1].idempotencyKey ${UNPAIRED}`, extensions: { code: 'BAD_USER_INPUT', field: ['input', 'debits', 1, 'idempotencyKey'] } }]);
    const [{ count }] = await app.orm.em.fork().execute('select count(*)::int as count from transactions where wallet_id = ? and type = ?', [fixture.walletId, 'DEDUCTION']);
    expect(count).toBe(0);
  });

  it('keeps tabs, newlines and any well-formed character, as sent', async () => {
    const org = await createOrganization(app);
    const names = ['Tab\tinside', 'Two\nlines', 'Emoji 😀', 'Combining e\u0301', 'No-break\u00a0space', 'Zero\u200bwidth', 'Ünïcødé ✓'];
    for (const name of names) {
      const { workspaceCreate } = await app.data(WORKSPACE_CREATE, { input: { name } }, org.ownerToken);
      expectNoUserErrors(workspaceCreate);
      expect(workspaceCreate.workspace.name).toBe(name);
    }
    expect(await workspaceNames(org.organizationId)).toEqual([...names].sort());
  });
});

describe('idempotency keys', () => {
  const adjust = (walletId: string, idempotencyKey: string) =>
    app.gql(ADJUST, { input: { walletId, amount: '1', description: 'credit', idempotencyKey } }, ADMIN_TOKEN);

  it('with an unpaired surrogate are refused: two such keys would be stored as one, and the second write lost', async () => {
    const { walletId } = await organizationWithWorkspace(app);
    for (const key of ['order-\ud800', 'order-\udbff']) {
      expect((await adjust(walletId, key)).errors).toEqual([
        { message: `input.idempotencyKey ${UNPAIRED}`, extensions: { code: 'BAD_USER_INPUT', field: ['input', 'idempotencyKey'] } },
      ]);
    }
    const [{ count }] = await app.orm.em.fork().execute('select count(*)::int as count from transactions where wallet_id = ?', [walletId]);
    expect(count).toBe(0);
  });

  it('are compared exactly as sent: no normalization, case or spaces', async () => {
    const { walletId } = await organizationWithWorkspace(app);
    const keys = ['caf\u00e9', 'cafe\u0301', 'Order-1', 'order-1', 'order-1 ', '\torder-1'];
    const transactionIds = [];
    for (const key of keys) {
      const { data } = await adjust(walletId, key);
      expectNoUserErrors(data.walletAdjust);
      transactionIds.push(data.walletAdjust.transaction.id);
    }
    expect(new Set(transactionIds).size).toBe(keys.length);
    // The same key again is a retry: the first answer, nothing changed.
    expect((await adjust(walletId, 'cafe\u0301')).data.walletAdjust.transaction.id).toBe(transactionIds[1]);
    const { node } = await app.data('query ($id: ID!) { node(id: $id) { ... on Wallet { balance } } }', { id: walletId }, ADMIN_TOKEN);
    expect(node.balance).toBe(String(keys.length));
  });
});
