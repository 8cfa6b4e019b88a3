import { recordset, textArray } from '../db/recordset';
import { raw, sql, type Statement } from '../db/sql';
import { type Answer, storeAnswers } from '../idempotency';
import { ledgerWrite } from '../ledger/ledger';
import { type GatewayRequest, isKeyed, outcomeToJson } from './contract';
import type { Decisions } from './decide';
import { RATE_WINDOW_SECONDS } from './lock';
import type { BatchReads, MeterTally, Triage } from './state';

/**
 * Raised by the write when another batch answered one of our idempotency keys while we were
 * deciding: the batch is rolled back and run again, and then replays that answer.
 */
export const IDEMPOTENCY_RACE = 'idempotency race';

export function isIdempotencyRace(error: unknown): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return code === 'TG001' && message === IDEMPOTENCY_RACE;
}

/**
 * Of the wallets given, those whose auto top-up is being charged or starts now (the rule of
 * AutoTopUps.start): the top-up in flight has not been declined (a declined one waits minutes
 * for its next attempt), or none is in flight and fewer than the daily limit were started in
 * 24 hours.
 */
function topUpsUnderWay(walletIds: string[], dailyLimit: number): Statement {
  return sql`(select coalesce(jsonb_agg(x.wallet_id), '[]'::jsonb)
     from unnest(${textArray(walletIds)}::text[]) as x (wallet_id)
     cross join lateral (
       select (select p.failure_reason is null from purchases p
                where p.wallet_id = x.wallet_id and p.kind = 'AUTO_TOP_UP' and p.status in ('PENDING', 'REQUIRES_ACTION')) as charging,
              (select count(*) from purchases p
                where p.wallet_id = x.wallet_id and p.kind = 'AUTO_TOP_UP' and p.created_at > now() - interval '24 hours') as top_ups) as t
    where t.charging or (t.charging is null and t.top_ups < ${dailyLimit}::bigint))`;
}

/** Adds what the batch's meter reports counted to the month counts it locked. */
function meterCounted(changes: Array<[string, MeterTally]>): Statement {
  const counted = recordset(
    { workspace_id: 'text', meter: 'text', month_start: 'timestamptz', quantity: 'bigint', billed_quantity: 'bigint', cost: 'bigint' },
    changes.map(([key, tally]) => {
      const [workspaceId, meter, startMs] = key.split('|');
      return {
        workspace_id: workspaceId,
        meter,
        month_start: new Date(Number(startMs)).toISOString(),
        quantity: String(tally.added),
        billed_quantity: String(tally.billed),
        cost: String(tally.cost),
      };
    }),
  );
  return sql`,
       meter_counted as (
         update meter_usage m
            set quantity = m.quantity + x.quantity, billed_quantity = m.billed_quantity + x.billed_quantity, cost = m.cost + x.cost
           from ${counted}
          where m.workspace_id = x.workspace_id and m.meter = x.meter and m.month_start = x.month_start)`;
}

/**
 * Only what was done is remembered: a refusal changed nothing, so its retry (after the
 * Retry-After, or a top-up) is judged afresh.
 */
function answersOf(requests: GatewayRequest[], reads: BatchReads, triage: Triage, decisions: Decisions): Answer[] {
  return [...triage.pending].flatMap((index) => {
    const request = requests[index];
    if (!isKeyed(request) || !decisions.outcomes[index].allowed) return [];
    return [
      {
        organizationId: reads.keys.get(index)!.organization_id,
        key: request.idempotencyKey,
        operation: `gateway.${request.kind}`,
        requestHash: triage.requestHashes.get(index)!,
        response: outcomeToJson(decisions.outcomes[index]),
      },
    ];
  });
}

/**
 * Everything the batch decided, in one statement: the ledger's posting (balances by delta, rows,
 * usage rollup, low-balance thresholds), counters, the rate window, holds, and the answers under
 * their idempotency keys. An answer that another batch stored first under the same key means
 * this batch must run again; either check failing stops the statement before its COMMIT. Reads
 * back the alerts fired and which of `awaitingTopUp` have a top-up coming.
 */
export function writeStatement(
  requests: GatewayRequest[],
  reads: BatchReads,
  triage: Triage,
  decisions: Decisions,
  now: Date,
  awaitingTopUp: { walletIds: string[]; dailyLimit: number } | null,
): Statement {
  const nowSecond = Math.floor(now.getTime() / 1000);
  const ledger = ledgerWrite(decisions.plan, now);
  const counters = recordset(
    { subject_id: 'text', period: 'text', period_start: 'timestamptz', cost: 'bigint', tokens: 'bigint', requests: 'bigint', held_cost: 'bigint', held_tokens: 'bigint' },
    [...decisions.counters.entries()]
      .filter(([, tally]) => tally.changed)
      .map(([id, { change }]) => {
        const [subjectId, period, startMs] = id.split('|');
        return {
          subject_id: subjectId,
          period,
          period_start: new Date(Number(startMs)).toISOString(),
          cost: String(change.cost),
          tokens: String(change.tokens),
          requests: String(change.requests),
          held_cost: String(change.heldCost),
          held_tokens: String(change.heldTokens),
        };
      }),
  );
  const rateKeys = [...decisions.rateCounted.keys()];
  const rates = recordset(
    { api_key_id: 'text', requests: 'integer' },
    [...decisions.rateCounted].map(([apiKeyId, counted]) => ({ api_key_id: apiKeyId, requests: counted })),
  );
  const holds = recordset(
    {
      id: 'text',
      organization_id: 'text',
      wallet_id: 'text',
      api_key_id: 'text',
      identity_id: 'text',
      project_id: 'text',
      model: 'text',
      routing_mode: 'text',
      markup_bps: 'integer',
      discount_bps: 'integer',
      input_price: 'bigint',
      output_price: 'bigint',
      cached_input_price: 'bigint',
      cache_write_price: 'bigint',
      reasoning_price: 'bigint',
      request_price: 'bigint',
      image_price: 'bigint',
      amount: 'bigint',
      tokens: 'bigint',
      created_at: 'timestamptz',
      expires_at: 'timestamptz',
    },
    decisions.newHolds,
  );
  const settled = recordset(
    { id: 'text', status: 'text', hash: 'text', response: 'jsonb' },
    [...decisions.settledHolds].map(([id, hold]) => ({ id, status: hold.status, hash: hold.hash, response: outcomeToJson(hold.response) })),
  );
  const answers = answersOf(requests, reads, triage, decisions);
  const meterChanges = [...decisions.meterCounts].filter(([, tally]) => tally.added > 0n);
  return sql`with ${ledger.ctes},
       counter_changes as (
         update usage_counters c
            set cost = c.cost + x.cost, tokens = c.tokens + x.tokens, requests = c.requests + x.requests,
                held_cost = c.held_cost + x.held_cost, held_tokens = c.held_tokens + x.held_tokens
           from ${counters}
          where c.subject_id = x.subject_id and c.period = x.period and c.period_start = x.period_start),
       rate_counted as (
         insert into rate_windows (api_key_id, second, requests)
         select api_key_id, ${nowSecond}::bigint, requests from ${rates}
         on conflict (api_key_id, second) do update set requests = rate_windows.requests + excluded.requests),
       rate_forgotten as (
         delete from rate_windows
          where api_key_id in (select unnest(${textArray(rateKeys)}::text[])) and second <= ${nowSecond - RATE_WINDOW_SECONDS}::bigint),
       new_holds as (
         insert into holds (id, organization_id, wallet_id, api_key_id, identity_id, project_id, model, routing_mode, markup_bps,
                            discount_bps, input_price, output_price, cached_input_price, cache_write_price, reasoning_price,
                            request_price, image_price, amount, tokens, status, created_at, expires_at)
         select id, organization_id, wallet_id, api_key_id, identity_id, project_id, model, routing_mode, markup_bps,
                discount_bps, input_price, output_price, cached_input_price, cache_write_price, reasoning_price,
                request_price, image_price, amount, tokens, 'ACTIVE', created_at, expires_at
           from ${holds}),
       settled_holds as (
         update holds h set status = x.status, settled_at = ${now}::timestamptz, settle_request_hash = x.hash, settle_response = x.response
           from ${settled}
          where h.id = x.id),
       answered as (${storeAnswers(answers)})${meterChanges.length > 0 ? meterCounted(meterChanges) : raw('')}
       select ${ledger.check}
          and tollgate_expect((select count(*) from answered) = ${answers.length}::bigint, ${raw(`'${IDEMPOTENCY_RACE}'`)}) as written,
              ${ledger.alerts} as alerts,
              ${awaitingTopUp ? topUpsUnderWay(awaitingTopUp.walletIds, awaitingTopUp.dailyLimit) : raw('null')} as top_ups_under_way`;
}
