import { formatMoney } from '../src/money';
import { useTestApp } from './support/app';
import { type ServerProcess, spawnServer } from './support/process';
import { COST_OF_1000_INPUT, debitAtOnce, gatewaySetup, walletState } from './support/gateway';
import { setCreditTerms } from './support/enterprise';

const app = useTestApp();
const CALLS = 1500;
/** The credit line pays for exactly this many calls. */
const CREDIT_FOR = 977;

describe('a credit line under concurrent debits from two server processes on one database', () => {
  let other: ServerProcess;

  beforeAll(async () => {
    other = await spawnServer();
  }, 60_000);

  afterAll(() => {
    other.process.kill('SIGTERM');
  });

  it('is never exceeded: exactly the calls it pays for are allowed, the balance ends at minus the limit, the ledger sums to it', async () => {
    const fixture = await gatewaySetup(app, null);
    const limit = COST_OF_1000_INPUT * BigInt(CREDIT_FOR);
    await setCreditTerms(app, fixture.organizationId, formatMoney(limit));
    const { allowed, denials } = await debitAtOnce([app.server.url, other.url], fixture, CALLS);
    expect(allowed).toBe(CREDIT_FOR);
    expect(denials).toEqual(new Map([['INSUFFICIENT_CREDITS', CALLS - CREDIT_FOR]]));
    expect(await walletState(app, fixture.walletId)).toEqual({ balance: -limit, held: 0n, sum: -limit, deductions: CREDIT_FOR });
  });
});
