import { hashToken } from '../auth/tokens';
import { bigintOrNull, recordset, textArray } from '../db/recordset';
import { raw, type Sql, sql } from '../db/sql';
import { newId } from '../ids';
import type { CallPricing, TokenPrice } from '../pricing/cost';
import { type CallRequest, type GatewayRequest, isKeyed, type MeterRequest, RoutingMode } from './contract';
import type { BatchReads, IdentityRow, KeyRow, MeterTerms } from './state';

/** A price row as read: every component as text. */
function priceOf(row: Record<string, string | null>): TokenPrice {
  return {
    inputPrice: BigInt(row.input_price!),
    outputPrice: BigInt(row.output_price!),
    cachedInputPrice: bigintOrNull(row.cached_input_price),
    cacheWritePrice: bigintOrNull(row.cache_write_price),
    reasoningPrice: bigintOrNull(row.reasoning_price),
    requestPrice: bigintOrNull(row.request_price),
    imagePrice: bigintOrNull(row.image_price),
  };
}

type NegotiatedTerms = Record<string, string | null> & { discount_bps: number | null };

/** The terms for a model: its own, unless they ended (neither a discount nor a price); else the organization's. */
function inForce(terms: Map<string, NegotiatedTerms>, organizationId: string, model: string): NegotiatedTerms | null {
  const ended = (row: NegotiatedTerms | undefined) => !row || (row.discount_bps === null && row.input_price === null);
  const own = terms.get(`${organizationId}|${model}`);
  if (!ended(own)) return own!;
  const general = terms.get(`${organizationId}|`);
  return ended(general) ? null : general!;
}

/** A fixed negotiated price replaces the catalog's; a discount comes off it. Null: the model has no price. */
function pricingOf(listed: TokenPrice | undefined, terms: NegotiatedTerms | null, markupBps: number): CallPricing | null {
  if (terms?.input_price != null) return { price: priceOf(terms), markupBps, discountBps: 0 };
  return listed ? { price: listed, markupBps, discountBps: terms?.discount_bps ?? 0 } : null;
}

/** The markups of the routing modes: the operator's, and the overrides of the keys' workspaces. */
const ROUTING_MARKUPS = raw(`
       select 'markup', jsonb_build_object('workspace_id', null, 'mode', mode, 'markup_bps', markup_bps) from routing_markups
       union all
       select 'markup', jsonb_build_object('workspace_id', workspace_id, 'mode', mode, 'markup_bps', markup_bps)
         from workspace_routing_markups where workspace_id in (select workspace_id from keys)
       union all`);

/** The meters reported on: each with the allowance of every workspace of the batch's keys. */
const meterTerms = (names: Set<string>) => sql`
       select 'meter', jsonb_build_object('name', m.name, 'workspace_id', k.workspace_id, 'unit_price', m.unit_price::text,
              'included', coalesce(a.included_per_month, m.included_per_month)::text)
         from meters m
        cross join (select distinct workspace_id from keys) as k
         left join workspace_meter_allowances a on a.workspace_id = k.workspace_id and a.meter = m.name
        where m.name in (select unnest(${textArray(names)}::text[]))
       union all`;

/**
 * What a batch reads before its transaction (the hot wallet waits on what happens while it is
 * locked, so that is little). One statement for the keyed requests: each distinct key with its
 * limits, each distinct model's price, and the answers already given under the requests'
 * idempotency keys (an answer stored meanwhile by another batch is caught when ours is written).
 */
export async function readKeys(query: Sql, requests: GatewayRequest[], now: Date): Promise<BatchReads> {
  const reads: BatchReads = { keys: new Map(), pricing: new Map(), meters: new Map(), seen: new Map(), identities: new Map() };
  const secretHashes = new Map<string, string>();
  const wanted: Array<{ i: number; secret_hash: string; key: string }> = [];
  const models = new Set<string>();
  const meters = new Set<string>();
  let routed = false;
  requests.forEach((request, i) => {
    if (!isKeyed(request)) return;
    let secretHash = secretHashes.get(request.apiKey);
    if (!secretHash) {
      secretHash = hashToken(request.apiKey);
      secretHashes.set(request.apiKey, secretHash);
    }
    wanted.push({ i, secret_hash: secretHash, key: request.idempotencyKey });
    if (request.kind === 'meter') {
      meters.add(request.meter);
      return;
    }
    models.add(request.model);
    routed ||= request.routingMode !== RoutingMode.DIRECT;
  });
  if (wanted.length === 0) return reads;
  // Each kind of row has its own shape, told apart by `kind`.
  const found = await query<{ kind: 'key' | 'price' | 'markup' | 'meter' | 'terms' | 'seen'; row: any }>(
    sql`with wanted as (
         select * from ${recordset({ i: 'integer', secret_hash: 'text', key: 'text' }, wanted)}),
       keys as (
         select k.id, k.organization_id, k.workspace_id, k.wallet_id, k.project_id, k.owner_member_id, k.secret_hash,
                k.cost_limit::text as cost_limit, k.token_limit::text as token_limit, k.limit_period,
                k.requests_per_minute, (k.revoked_at is null and (k.expires_at is null or k.expires_at > ${now}::timestamptz)) as usable,
                ws.markup_bps, p.budget::text as project_budget, p.budget_period as project_budget_period,
                exists (select 1 from enterprise_invoices i
                         where i.organization_id = k.organization_id and i.status = 'OPEN' and i.due_at <= ${now}::timestamptz) as past_due
           from api_keys k
           join workspaces ws on ws.id = k.workspace_id
           left join projects p on p.id = k.project_id
          where k.secret_hash in (select secret_hash from wanted))
       select 'key' as kind, to_jsonb(keys) as row from keys
       union all
       select 'price', jsonb_build_object('model', model, 'input_price', input_price::text, 'output_price', output_price::text,
              'cached_input_price', cached_input_price::text, 'cache_write_price', cache_write_price::text,
              'reasoning_price', reasoning_price::text, 'request_price', request_price::text, 'image_price', image_price::text)
         from model_prices where model in (select unnest(${textArray(models)}::text[]))
       union all${routed ? ROUTING_MARKUPS : raw('')}${meters.size > 0 ? meterTerms(meters) : raw('')}
       select 'terms', to_jsonb(t) from (
         select distinct on (n.organization_id, n.model) n.organization_id, n.model, n.discount_bps, n.input_price::text,
                n.output_price::text, n.cached_input_price::text, n.cache_write_price::text, n.reasoning_price::text,
                n.request_price::text, n.image_price::text
           from negotiated_prices n
          where n.organization_id in (select organization_id from keys)
            and (n.model is null or n.model in (select unnest(${textArray(models)}::text[])))
            and n.effective_from <= ${now}::timestamptz
          order by n.organization_id, n.model, n.effective_from desc, n.created_at desc) as t
       union all
       -- A lateral subquery kept apart (offset 0), so that each request probes the primary key
       -- on both columns instead of scanning all of its organization's ever-growing keys.
       select 'seen', jsonb_build_object('i', w.i, 'request_hash', ik.request_hash, 'response', ik.response)
         from wanted w
         join keys k on k.secret_hash = w.secret_hash
         join lateral (
           select request_hash, response from idempotency_keys
            where organization_id = k.organization_id and key = w.key offset 0) as ik on true`,
  );
  const keysByHash = new Map<string, KeyRow>();
  const prices = new Map<string, TokenPrice>();
  /** By `${workspace_id}|${mode}`, the operator's under `|${mode}`. */
  const markups = new Map<string, number>();
  /** The negotiated terms in force, by `${organization_id}|${model}`, the organization-wide under `${organization_id}|`. */
  const terms = new Map<string, NegotiatedTerms>();
  /** By `${workspace_id}|${meter}`. */
  const meterTermsOf = new Map<string, MeterTerms>();
  const seen = new Map<number, { request_hash: string; response: unknown }>();
  for (const { kind, row } of found) {
    if (kind === 'key') keysByHash.set(row.secret_hash, row);
    else if (kind === 'price') prices.set(row.model, priceOf(row));
    else if (kind === 'markup') markups.set(`${row.workspace_id ?? ''}|${row.mode}`, row.markup_bps);
    else if (kind === 'meter') meterTermsOf.set(`${row.workspace_id}|${row.name}`, { unitPrice: BigInt(row.unit_price), included: BigInt(row.included) });
    else if (kind === 'terms') terms.set(`${row.organization_id}|${row.model ?? ''}`, row);
    else seen.set(row.i, row);
  }
  for (const { i, secret_hash: secretHash } of wanted) {
    const key = keysByHash.get(secretHash);
    if (key) reads.keys.set(i, key);
    reads.seen.set(i, seen.get(i) ?? null);
    const request = requests[i] as CallRequest | MeterRequest;
    if (!key) continue;
    if (request.kind === 'meter') {
      reads.meters.set(i, meterTermsOf.get(`${key.workspace_id}|${request.meter}`) ?? null);
      continue;
    }
    const markupBps =
      request.routingMode === RoutingMode.DIRECT
        ? key.markup_bps
        : (markups.get(`${key.workspace_id}|${request.routingMode}`) ?? markups.get(`|${request.routingMode}`)!);
    reads.pricing.set(i, pricingOf(prices.get(request.model), inForce(terms, key.organization_id, request.model), markupBps));
  }
  return reads;
}

/** The end users of the requests to decide: created on first use, then read with their budgets. */
export async function loadIdentities(query: Sql, requests: GatewayRequest[], pending: Set<number>, keys: Map<number, KeyRow>): Promise<Map<string, IdentityRow>> {
  const identities = new Map<string, IdentityRow>();
  const wanted = new Map<string, { id: string; organization_id: string; workspace_id: string; external_id: string }>();
  for (const index of pending) {
    const request = requests[index];
    if (!isKeyed(request) || !request.identity) continue;
    const key = keys.get(index)!;
    const id = `${key.workspace_id}|${request.identity}`;
    if (!wanted.has(id)) {
      wanted.set(id, { id: newId('identity'), organization_id: key.organization_id, workspace_id: key.workspace_id, external_id: request.identity });
    }
  }
  if (wanted.size === 0) return identities;
  const list = [...wanted.values()].sort((a, b) => (a.workspace_id + a.external_id < b.workspace_id + b.external_id ? -1 : 1));
  await query(
    sql`insert into identities (id, organization_id, workspace_id, external_id)
        select id, organization_id, workspace_id, external_id
          from ${recordset({ id: 'text', organization_id: 'text', workspace_id: 'text', external_id: 'text' }, list)}
        on conflict (workspace_id, external_id) do nothing`,
  );
  const found = await query<IdentityRow>(
    sql`select i.id, i.workspace_id, i.external_id, i.budget::text, i.budget_period
          from identities i join ${recordset({ workspace_id: 'text', external_id: 'text' }, list)} using (workspace_id, external_id)`,
  );
  for (const identity of found) identities.set(`${identity.workspace_id}|${identity.external_id}`, identity);
  return identities;
}
