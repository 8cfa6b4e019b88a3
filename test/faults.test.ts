import { ADMIN_TOKEN, capturedLogger, GATEWAY_TOKEN, startTestApp, subscriptionClient, type TestApp, wsResult } from './support/app';
import { databaseRelay } from './support/database-relay';
import { createOrganization, eventually, unique, WORKSPACE_CREATE } from './support/fixtures';
import { DEBIT, gatewaySetup, requestKey } from './support/gateway';

const log = capturedLogger();
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ logger: log.logger });
});
afterAll(() => app.close());

/** One GraphQL request over HTTP: its body and the request id the server answered with. */
async function post(baseUrl: string, query: string, variables: Record<string, unknown>, token: string) {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return { requestId: response.headers.get('x-request-id'), body: (await response.json()) as Record<string, any> };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const masked = (requestId: unknown) => ({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId } });
const failuresLogged = (requestId: string) => log.lines().filter((line) => line.msg === 'GraphQL request failed' && line.requestId === requestId);

describe('a fault', () => {
  it('is masked alike over HTTP and graphql-ws, with the request id under which it is logged, and the log holds no value of the statement', async () => {
    const em = app.orm.em.fork();
    // A real failure inside PostgreSQL, whose detail repeats a value of the statement.
    await em.execute(`create function refuse_poisoned_workspace() returns trigger language plpgsql as $$
      begin if new.name like 'poisoned %' then raise exception 'workspace refused' using detail = new.name; end if; return new; end $$`);
    await em.execute('create trigger refuse_poisoned_workspace before insert on workspaces for each row execute function refuse_poisoned_workspace()');
    const org = await createOrganization(app);
    const client = subscriptionClient(app, org.ownerToken);
    try {
      const overHttp = await post(app.server.url, WORKSPACE_CREATE, { input: { name: unique('poisoned') } }, org.ownerToken);
      expect(overHttp.body).toEqual({ data: null, errors: [masked(overHttp.requestId)] });

      const overWs = await wsResult(client, WORKSPACE_CREATE, { input: { name: unique('poisoned') } });
      expect(overWs).toEqual({ data: null, errors: [masked(expect.stringMatching(UUID))] });

      for (const requestId of [overHttp.requestId!, overWs.errors![0].extensions!.requestId as string]) {
        expect(failuresLogged(requestId)).toEqual([expect.objectContaining({ level: 50, err: expect.objectContaining({ code: 'P0001', message: 'workspace refused' }) })]);
      }
      expect(log.text()).not.toMatch(/poisoned [0-9a-f]{8}/);
    } finally {
      await client.dispose();
      await em.execute('drop trigger refuse_poisoned_workspace on workspaces; drop function refuse_poisoned_workspace()');
    }
  });

  it('leaves out of the log a value that PostgreSQL quotes in a data exception', async () => {
    const secret = unique('secret');
    const error = await app.orm.em.fork().execute('select ?::int as n', [secret]).catch((failure: unknown) => failure);
    log.logger.error({ err: error }, 'statement failed');
    const [line] = log.lines().filter((entry) => entry.msg === 'statement failed');
    expect(line.err).toMatchObject({ code: '22P02', message: 'invalid input syntax for type integer: "…"' });
    expect(log.text()).not.toContain(secret);
  });
});

describe('the database away', () => {
  it('answers a gateway call over graphql-ws as over HTTP: masked, with its request id; the same connection serves again once it is back', async () => {
    const fixture = await gatewaySetup(app, '10');
    const relay = databaseRelay(new URL(process.env.TOLLGATE_TEST_DATABASE_URL!));
    const server = await startTestApp({ databaseUrl: await relay.start(), logger: log.logger });
    const client = subscriptionClient(server, GATEWAY_TOKEN);
    const subscriber = subscriptionClient(server, ADMIN_TOKEN);
    const debit = () => ({ input: { apiKey: fixture.secret, model: fixture.model, idempotencyKey: requestKey(), inputTokens: 1000, outputTokens: 0 } });
    try {
      expect(await wsResult(client, DEBIT, debit())).toMatchObject({ data: { gatewayDebit: { allowed: true } } });
      expect(await wsResult(subscriber, '{ __typename }')).toEqual({ data: { __typename: 'Query' } });
      await relay.stop();

      const overWs = await wsResult(client, DEBIT, debit());
      expect(overWs).toEqual({ data: null, errors: [masked(expect.stringMatching(UUID))] });
      const overHttp = await post(server.server.url, DEBIT, debit(), GATEWAY_TOKEN);
      expect(overHttp.body).toEqual({ data: null, errors: [masked(overHttp.requestId)] });
      // A subscription's first event is the balance, read from the database.
      const subscribed = await wsResult(subscriber, 'subscription ($walletId: ID!) { walletBalanceChanged(walletId: $walletId) { balance } }', { walletId: fixture.walletId });
      expect(subscribed).toEqual({ errors: [masked(expect.stringMatching(UUID))] });
      for (const requestId of [overWs.errors![0].extensions!.requestId as string, overHttp.requestId!, subscribed.errors![0].extensions!.requestId as string]) {
        expect(failuresLogged(requestId)).toHaveLength(1);
      }

      await relay.start();
      await eventually(async () => (await wsResult(client, DEBIT, debit())).data?.gatewayDebit.allowed);
    } finally {
      await client.dispose();
      await subscriber.dispose();
      // Closed with its database there, so that the pool is let go at once.
      await relay.start();
      await server.close();
      await relay.stop();
    }
  });
});
