import { useTestApp } from './support/app';
import { databaseRelay } from './support/database-relay';
import { gatewaySetup, postDebit } from './support/gateway';
import { spawnServer } from './support/process';

const app = useTestApp();

describe('a database outage under load', () => {
  it('fails calls meanwhile with a clean error, loses no allowed debit, and serves again when the database is back, without a restart', async () => {
    const fixture = await gatewaySetup(app, '1000');
    const target = new URL(process.env.TOLLGATE_TEST_DATABASE_URL!);
    const relay = databaseRelay(target);
    const server = await spawnServer({ DATABASE_URL: await relay.start() });
    const send = async () => {
      const body = await postDebit(server.url, fixture);
      return { allowed: body.data?.gatewayDebit.allowed === true, transactionId: body.data?.gatewayDebit.transactionId ?? null, errors: body.errors ?? null };
    };
    // Load throughout: 16 clients debiting one after the other, the answers kept.
    const answers: Array<Awaited<ReturnType<typeof send>>> = [];
    let loading = true;
    const load = Promise.all(
      Array.from({ length: 16 }, async () => {
        while (loading) answers.push(await send());
      }),
    );
    const until = async (condition: () => boolean, failure: string) => {
      for (let waited = 0; !condition(); waited += 50) {
        if (waited > 10_000) throw new Error(failure);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    try {
      await until(() => answers.filter((answer) => answer.allowed).length >= 32, 'no debits before the outage');
      await relay.stop();
      const stoppedAt = answers.length;
      await until(() => answers.slice(stoppedAt).some((answer) => !answer.allowed), 'no debit refused during the outage');
      expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

      await relay.start();
      for (let waited = 0; !answers.slice(-16).every((answer) => answer.allowed); waited += 100) {
        if (waited > 10_000) throw new Error('no debits allowed after the database came back');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      loading = false;
      await load;

      // Every answer was an allowed debit or a clean error; every allowed one is in the ledger.
      for (const answer of answers.filter((answer) => !answer.allowed)) {
        expect(answer.errors).toEqual([expect.objectContaining({ message: 'Internal server error', extensions: expect.objectContaining({ code: 'INTERNAL_SERVER_ERROR' }) })]);
      }
      const allowed = answers.filter((answer) => answer.allowed).map((answer) => answer.transactionId!);
      const rows = await app.orm.em.fork().execute('select id from transactions where id in (?)', [allowed]);
      expect(rows).toHaveLength(allowed.length);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      expect(server.process.exitCode).toBeNull();
    } finally {
      loading = false;
      server.process.kill('SIGKILL');
      await relay.stop();
      await load.catch(() => undefined);
    }
  }, 60_000);
});
