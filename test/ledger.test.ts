import { randomInt } from 'node:crypto';
import { formatMoney, parseMoney } from '../src/money';
import { ADMIN_TOKEN, useTestApp } from './support/app';
import { ADJUST, balanceOf, createOrganization, createWorkspace, fund, TRANSFER, unique } from './support/fixtures';

const app = useTestApp();

/** Balance and ledger sum of a wallet, straight from the database. */
async function ledgerState(walletId: string) {
  const [row] = await app.orm.em.fork().execute(
    `select w.balance::text as balance, coalesce(sum(t.amount), 0)::text as sum, count(t.id)::int as rows
       from wallets w left join transactions t on t.wallet_id = w.id where w.id = ? group by w.id`,
    [walletId],
  );
  return { balance: BigInt(row.balance), sum: BigInt(row.sum), rows: row.rows as number };
}

async function orgWithTwoWallets() {
  const org = await createOrganization(app);
  const a = await createWorkspace(app, org.ownerToken, 'A');
  const b = await createWorkspace(app, org.ownerToken, 'B');
  return { org, a, b };
}

describe('the ledger proves every balance', () => {
  it('keeps balance == sum(amount) and balanceAfter running after a random mix of adjustments and transfers', async () => {
    const { org, a, b } = await orgWithTwoWallets();
    await fund(app, a.walletId, '100');
    const expected = new Map([[a.walletId, parseMoney('100')], [b.walletId, 0n]]);
    for (let i = 0; i < 40; i += 1) {
      const amount = BigInt(randomInt(1, 5_000_000_000));
      if (i % 3 === 0) {
        const walletId = i % 2 ? a.walletId : b.walletId;
        const signed = i % 4 === 0 ? -amount : amount;
        const { walletAdjust } = await app.data(
          ADJUST,
          { input: { walletId, amount: formatMoney(signed), description: 'mix', idempotencyKey: unique('mix') } },
          ADMIN_TOKEN,
        );
        if (walletAdjust.userErrors.length === 0) expected.set(walletId, expected.get(walletId)! + signed);
        else expect(walletAdjust.userErrors[0].code).toBe('INSUFFICIENT_FUNDS');
      } else {
        const [from, to] = i % 2 ? [a.walletId, b.walletId] : [b.walletId, a.walletId];
        const { walletTransfer } = await app.data(
          TRANSFER,
          { input: { fromWalletId: from, toWalletId: to, amount: formatMoney(amount), idempotencyKey: unique('mix') } },
          org.ownerToken,
        );
        if (walletTransfer.userErrors.length === 0) {
          expected.set(from, expected.get(from)! - amount);
          expected.set(to, expected.get(to)! + amount);
        } else {
          expect(walletTransfer.userErrors[0].code).toBe('INSUFFICIENT_FUNDS');
        }
      }
    }
    for (const [walletId, balance] of expected) {
      const state = await ledgerState(walletId);
      expect(state.balance).toBe(balance);
      expect(state.sum).toBe(balance);
      expect(await balanceOf(app, walletId)).toBe(formatMoney(balance));
      const broken = await app.orm.em.fork().execute(
        `select id from (
           select id, balance_after, sum(amount) over (order by created_at, id) as running
             from transactions where wallet_id = ?) t
          where balance_after <> running`,
        [walletId],
      );
      expect(broken).toEqual([]);
    }
  });

  it('refuses to update or delete a ledger row', async () => {
    const { a } = await orgWithTwoWallets();
    await fund(app, a.walletId, '1');
    const em = app.orm.em.fork();
    await expect(em.execute('update transactions set amount = 1 where wallet_id = ?', [a.walletId])).rejects.toThrow(/append-only/);
    await expect(em.execute('delete from transactions where wallet_id = ?', [a.walletId])).rejects.toThrow(/append-only/);
  });

  it('refuses a ledger row whose wallet, organization or key does not exist, and the delete of a wallet it references', async () => {
    const { org, a } = await orgWithTwoWallets();
    await fund(app, a.walletId, '1');
    const em = app.orm.em.fork();
    const insert = (walletId: string, organizationId: string, apiKeyId: string | null) =>
      em.execute(
        `insert into transactions (id, wallet_id, organization_id, type, amount, balance_after, description, actor, api_key_id)
         values (?, ?, ?, 'MANUAL', 1, 1, 'test', 'test', ?), (?, ?, ?, 'MANUAL', 1, 2, 'test', 'test', null)`,
        [unique('txn_'), walletId, organizationId, apiKeyId, unique('txn_'), a.walletId, org.organizationId],
      );
    await expect(insert('wal_missing', org.organizationId, null)).rejects.toMatchObject({ code: '23503', message: expect.stringMatching(/"wallet_id"/) });
    await expect(insert(a.walletId, 'org_missing', null)).rejects.toMatchObject({ code: '23503', message: expect.stringMatching(/"organization_id"/) });
    await expect(insert(a.walletId, org.organizationId, 'key_missing')).rejects.toMatchObject({ code: '23503', message: expect.stringMatching(/"api_key_id"/) });
    await expect(em.execute('delete from wallets where id = ?', [a.walletId])).rejects.toMatchObject({ code: '23503', message: expect.stringMatching(/"transactions.wallet_id"/) });
    expect(await ledgerState(a.walletId)).toMatchObject({ balance: parseMoney('1'), sum: parseMoney('1'), rows: 1 });
  });
});

describe('walletTransfer', () => {
  it('moves credits instantly with no fee, as two rows of one commit', async () => {
    const { org, a, b } = await orgWithTwoWallets();
    await fund(app, a.walletId, '10');
    const { walletTransfer } = await app.data(
      TRANSFER,
      { input: { fromWalletId: a.walletId, toWalletId: b.walletId, amount: '2.5', description: 'for B', idempotencyKey: 'k1' } },
      org.ownerToken,
    );
    expect(walletTransfer.userErrors).toEqual([]);
    expect(walletTransfer.transferOut).toMatchObject({ amount: '-2.5', balanceAfter: '7.5' });
    expect(walletTransfer.transferIn).toMatchObject({ amount: '2.5', balanceAfter: '2.5' });
    const { node } = await app.data(
      `query ($id: ID!) { node(id: $id) { ... on Wallet { transactions(first: 1) { nodes { type description counterpartyWallet { id } } } } } }`,
      { id: b.walletId },
      org.ownerToken,
    );
    expect(node.transactions.nodes).toEqual([{ type: 'TRANSFER_IN', description: 'for B', counterpartyWallet: { id: a.walletId } }]);
  });

  it('refuses a transfer that would overdraw the source wallet and changes nothing', async () => {
    const { org, a, b } = await orgWithTwoWallets();
    await fund(app, a.walletId, '1');
    const { walletTransfer } = await app.data(
      TRANSFER,
      { input: { fromWalletId: a.walletId, toWalletId: b.walletId, amount: '1.000000001', idempotencyKey: 'over' } },
      org.ownerToken,
    );
    expect(walletTransfer).toMatchObject({ transferOut: null, transferIn: null });
    expect(walletTransfer.userErrors).toEqual([expect.objectContaining({ code: 'INSUFFICIENT_FUNDS', field: ['input', 'amount'] })]);
    expect(await ledgerState(a.walletId)).toMatchObject({ balance: parseMoney('1'), rows: 1 });
    expect(await ledgerState(b.walletId)).toMatchObject({ balance: 0n, rows: 0 });
  });

  it('shows in each payload the balance its own write left behind, even for several writes in one request', async () => {
    const { org, a, b } = await orgWithTwoWallets();
    await fund(app, a.walletId, '10');
    const data = await app.data(
      `mutation ($a: ID!, $b: ID!) {
         first: walletTransfer(input: { fromWalletId: $a, toWalletId: $b, amount: "1", idempotencyKey: "m1" }) {
           transferOut { balanceAfter wallet { balance } } }
         second: walletTransfer(input: { fromWalletId: $a, toWalletId: $b, amount: "1", idempotencyKey: "m2" }) {
           transferOut { balanceAfter wallet { balance } } }
       }`,
      { a: a.walletId, b: b.walletId },
      org.ownerToken,
    );
    expect(data.first.transferOut).toEqual({ balanceAfter: '9', wallet: { balance: '9' } });
    expect(data.second.transferOut).toEqual({ balanceAfter: '8', wallet: { balance: '8' } });
  });

  it('refuses a transfer to the same wallet', async () => {
    const { org, a } = await orgWithTwoWallets();
    const { walletTransfer } = await app.data(
      TRANSFER,
      { input: { fromWalletId: a.walletId, toWalletId: a.walletId, amount: '1', idempotencyKey: 'same' } },
      org.ownerToken,
    );
    expect(walletTransfer.userErrors[0].code).toBe('SAME_WALLET');
  });

  it('runs 200 concurrent transfers A→B and B→A with no error and conserves the sum', async () => {
    const { org, a, b } = await orgWithTwoWallets();
    await fund(app, a.walletId, '1000');
    await fund(app, b.walletId, '1000');
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => {
        const [from, to] = i % 2 ? [a.walletId, b.walletId] : [b.walletId, a.walletId];
        return app.gql(
          TRANSFER,
          { input: { fromWalletId: from, toWalletId: to, amount: `${(i % 7) + 1}.25`, idempotencyKey: `c${i}` } },
          org.ownerToken,
        );
      }),
    );
    for (const result of results) {
      expect(result.errors).toBeUndefined();
      expect(result.data.walletTransfer.userErrors).toEqual([]);
    }
    const stateA = await ledgerState(a.walletId);
    const stateB = await ledgerState(b.walletId);
    expect(stateA.balance).toBe(stateA.sum);
    expect(stateB.balance).toBe(stateB.sum);
    expect(stateA.balance + stateB.balance).toBe(parseMoney('2000'));
    expect(stateA.rows + stateB.rows).toBe(2 + 400);
  });
});

describe('idempotent money writes', () => {
  it('applies a retried adjustment once and returns the first answer', async () => {
    const { a } = await orgWithTwoWallets();
    const input = { walletId: a.walletId, amount: '5', description: 'goodwill', idempotencyKey: 'adj-1' };
    const first = await app.data(ADJUST, { input }, ADMIN_TOKEN);
    const second = await app.data(ADJUST, { input }, ADMIN_TOKEN);
    expect(second.walletAdjust).toEqual(first.walletAdjust);
    expect(await ledgerState(a.walletId)).toMatchObject({ balance: parseMoney('5'), rows: 1 });
  });

  it('applies concurrent retries of one transfer once', async () => {
    const { org, a, b } = await orgWithTwoWallets();
    await fund(app, a.walletId, '10');
    const input = { fromWalletId: a.walletId, toWalletId: b.walletId, amount: '3', idempotencyKey: 'tr-1' };
    const results = await Promise.all(Array.from({ length: 10 }, () => app.data(TRANSFER, { input }, org.ownerToken)));
    const ids = new Set(results.map((r) => r.walletTransfer.transferOut.id));
    expect(ids.size).toBe(1);
    expect(await ledgerState(a.walletId)).toMatchObject({ balance: parseMoney('7'), rows: 2 });
    expect(await ledgerState(b.walletId)).toMatchObject({ balance: parseMoney('3'), rows: 1 });
  });

  it('refuses the same key with a different request and changes nothing', async () => {
    const { org, a, b } = await orgWithTwoWallets();
    await fund(app, a.walletId, '10');
    const input = { fromWalletId: a.walletId, toWalletId: b.walletId, amount: '3', idempotencyKey: 'tr-2' };
    await app.data(TRANSFER, { input }, org.ownerToken);
    const { walletTransfer } = await app.data(TRANSFER, { input: { ...input, amount: '4' } }, org.ownerToken);
    expect(walletTransfer.userErrors).toEqual([expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'] })]);
    expect(await ledgerState(b.walletId)).toMatchObject({ balance: parseMoney('3'), rows: 1 });
  });

  it('judges a retry of a refused transfer afresh, as the refusal changed nothing', async () => {
    const { org, a, b } = await orgWithTwoWallets();
    const input = { fromWalletId: a.walletId, toWalletId: b.walletId, amount: '3', idempotencyKey: 'tr-3' };
    expect((await app.data(TRANSFER, { input }, org.ownerToken)).walletTransfer.userErrors[0].code).toBe('INSUFFICIENT_FUNDS');
    await fund(app, a.walletId, '3');
    expect((await app.data(TRANSFER, { input }, org.ownerToken)).walletTransfer.userErrors).toEqual([]);
    expect(await ledgerState(b.walletId)).toMatchObject({ balance: parseMoney('3') });
  });
});

describe('walletAdjust', () => {
  it('refuses a debit below zero', async () => {
    const { a } = await orgWithTwoWallets();
    await fund(app, a.walletId, '2');
    const { walletAdjust } = await app.data(
      ADJUST,
      { input: { walletId: a.walletId, amount: '-2.01', description: 'too much', idempotencyKey: 'neg' } },
      ADMIN_TOKEN,
    );
    expect(walletAdjust.userErrors[0].code).toBe('INSUFFICIENT_FUNDS');
    const debit = await app.data(
      ADJUST,
      { input: { walletId: a.walletId, amount: '-2', description: 'all of it', idempotencyKey: 'neg2' } },
      ADMIN_TOKEN,
    );
    expect(debit.walletAdjust.transaction).toMatchObject({ type: 'MANUAL', amount: '-2', balanceAfter: '0' });
  });

  it('refuses a credit that would overflow the balance', async () => {
    const { a } = await orgWithTwoWallets();
    await fund(app, a.walletId, '9000000000');
    const { walletAdjust } = await app.data(
      ADJUST,
      { input: { walletId: a.walletId, amount: '9000000000', description: 'overflow', idempotencyKey: 'ovf' } },
      ADMIN_TOKEN,
    );
    expect(walletAdjust.userErrors[0].code).toBe('BALANCE_OUT_OF_RANGE');
    expect(await ledgerState(a.walletId)).toMatchObject({ balance: parseMoney('9000000000'), rows: 1 });
  });
});
