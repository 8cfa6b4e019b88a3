import { ADMIN_TOKEN, graphqlClient } from './support/app';
import { createWorkspace, TRANSFER } from './support/fixtures';
import { gatewaySetup, postDebit } from './support/gateway';
import { type ServerProcess, spawnServer } from './support/process';

const RACES = 50;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * One idempotency key sent at once to the gateway and to a wallet write of the same
 * organization: the two lock the same wallet and claim the same key, in one order, so they queue
 * instead of deadlocking (a deadlock held the process's whole gateway for PostgreSQL's
 * deadlock_timeout of 1 s, other organizations included).
 */
describe('one idempotency key sent at once to gatewayDebit and walletTransfer', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await spawnServer({ TOLLGATE_ADMIN_TOKEN: ADMIN_TOKEN });
  }, 60_000);
  afterAll(() => server.process.kill('SIGKILL'));

  it(`${RACES} times: one of the two is carried out, the other told the key is taken, and another organization's debits are not held up`, async () => {
    const client = graphqlClient(server.url);
    const racer = await gatewaySetup(client, '100');
    const second = await createWorkspace(client, racer.ownerToken);
    const bystander = await gatewaySetup(client, '100');

    const latencies: number[] = [];
    let racing = true;
    const bystanders = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (racing) {
          const started = performance.now();
          const body = await postDebit(server.url, bystander);
          latencies.push(performance.now() - started);
          if (!body.data?.gatewayDebit.allowed) throw new Error(`the bystander was refused: ${JSON.stringify(body)}`);
        }
      }),
    );

    const outcomes: string[] = [];
    const raceDurations: number[] = [];
    try {
      for (let race = 0; race < RACES; race += 1) {
        const idempotencyKey = `race-${race}-${Date.now()}`;
        const started = performance.now();
        const [debit, transfer] = await Promise.all([
          postDebit(server.url, racer, { idempotencyKey }),
          client.gql(TRANSFER, { input: { fromWalletId: racer.walletId, toWalletId: second.walletId, amount: '0.01', idempotencyKey } }, racer.ownerToken),
        ]);
        raceDurations.push(performance.now() - started);
        if (debit.errors || transfer.errors) throw new Error(JSON.stringify({ debit, transfer }));
        const debited = debit.data!.gatewayDebit.allowed;
        const transferred = transfer.data.walletTransfer.userErrors.length === 0;
        outcomes.push(
          debited && !transferred && transfer.data.walletTransfer.userErrors[0].code === 'IDEMPOTENCY_KEY_REUSED'
            ? 'debited'
            : transferred && !debited && debit.data!.gatewayDebit.denial?.code === 'IDEMPOTENCY_KEY_REUSED'
              ? 'transferred'
              : JSON.stringify({ debit, transfer }),
        );
      }
    } finally {
      racing = false;
      await bystanders;
    }
    expect(outcomes.filter((outcome) => outcome !== 'debited' && outcome !== 'transferred')).toEqual([]);
    // A deadlock costs PostgreSQL's deadlock_timeout (1 s) before one side is chosen to fail.
    expect(Math.max(...raceDurations)).toBeLessThan(800);
    const p99 = percentile(latencies, 99);
    process.stdout.write(`idempotency races: ${RACES}, slowest race ${Math.max(...raceDurations).toFixed(1)} ms; other organization: ${latencies.length} debits, p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms\n`);
    expect(p99).toBeLessThan(100);
  }, 120_000);
});
