import type { EntityManager } from '@mikro-orm/postgresql';
import { type Actor, organizationScope } from '../actor';
import type { Deps } from '../deps';
import { MalformedInputError } from '../errors';
import { parseId, parseIds } from '../ids';

export enum UsageGroup {
  DAY = 'DAY',
  PROJECT = 'PROJECT',
  IDENTITY = 'IDENTITY',
  API_KEY = 'API_KEY',
  MODEL = 'MODEL',
  /** The member who owned the key when the call was made. */
  MEMBER = 'MEMBER',
  /** Metered extras by meter (model calls have none). */
  METER = 'METER',
}

export interface UsageFilter {
  from: Date;
  to: Date;
  workspaceId?: string | null;
  projectIds?: string[] | null;
  identityIds?: string[] | null;
  apiKeyIds?: string[] | null;
  models?: string[] | null;
  memberIds?: string[] | null;
  meters?: string[] | null;
}

export interface UsageAmounts {
  cost: bigint;
  /** Of the cost: the providers' (rows from before the split count whole), the markup, and metered extras. */
  providerCost: bigint;
  markup: bigint;
  meteredCost: bigint;
  inputTokens: bigint;
  outputTokens: bigint;
  requests: bigint;
}

/** One group of a report: the values it is grouped by (null when not grouped by that), and its sums. */
export interface UsageRow extends UsageAmounts {
  day: Date | null;
  projectId: string | null;
  identityId: string | null;
  apiKeyId: string | null;
  model: string | null;
  memberId: string | null;
  meter: string | null;
}

export interface UsageReport {
  rows: UsageRow[];
  total: UsageAmounts;
}

/** A report spans at most this long, and has at most this many groups: narrow it otherwise. */
export const MAX_RANGE_DAYS = 366;
export const MAX_GROUPS = 10_000;

const HOUR_MS = 3_600_000;
const GROUP_COLUMNS: Record<UsageGroup, string> = {
  [UsageGroup.DAY]: `date_trunc('day', u.at, 'UTC')`,
  [UsageGroup.PROJECT]: 'u.project_id',
  [UsageGroup.IDENTITY]: 'u.identity_id',
  [UsageGroup.API_KEY]: 'u.api_key_id',
  [UsageGroup.MODEL]: 'u.model',
  [UsageGroup.MEMBER]: 'u.member_id',
  [UsageGroup.METER]: 'u.meter',
};

interface SumRow {
  day: Date | null;
  project_id: string | null;
  identity_id: string | null;
  api_key_id: string | null;
  model: string | null;
  member_id: string | null;
  meter: string | null;
  cost: string;
  provider_cost: string;
  markup: string;
  metered_cost: string;
  input_tokens: string;
  output_tokens: string;
  requests: string;
}

export interface UsageReportInput {
  /** `organizationId`: the platform admin names the organization; a member's is their own. */
  filter: UsageFilter & { organizationId?: string | null };
  groupBy: UsageGroup[];
}

/**
 * The usage report the actor asks for. A query has no payload for user errors: what is wrong with
 * the input is a malformed request, naming the field.
 */
export async function usageReport({ em }: Pick<Deps, 'em'>, actor: Actor, { filter, groupBy }: UsageReportInput): Promise<UsageReport> {
  const scope = organizationScope(actor);
  const organizationId = filter.organizationId ? parseId('organization', filter.organizationId, 'filter.organizationId') : scope;
  if (organizationId === null) throw new MalformedInputError('filter.organizationId: the platform admin names the organization');
  if (scope !== null && organizationId !== scope) throw new MalformedInputError('filter.organizationId: no such organization');
  return sumUsage(
    em,
    organizationId,
    {
      ...filter,
      workspaceId: filter.workspaceId ? parseId('workspace', filter.workspaceId, 'filter.workspaceId') : null,
      projectIds: parseIds('project', filter.projectIds, 'filter.projectIds'),
      identityIds: parseIds('identity', filter.identityIds, 'filter.identityIds'),
      apiKeyIds: parseIds('apiKey', filter.apiKeyIds, 'filter.apiKeyIds'),
      memberIds: parseIds('member', filter.memberIds, 'filter.memberIds'),
    },
    groupBy,
  );
}

/**
 * Gateway spend of an organization in [from, to), grouped, exact. Whole UTC hours come from the
 * hourly rollup the gateway keeps; the partial hours at either end from the ledger itself, so
 * any bounds give the same sums as the ledger's DEDUCTION and METERED rows.
 */
export async function sumUsage(em: EntityManager, organizationId: string, filter: UsageFilter, groupBy: UsageGroup[]): Promise<UsageReport> {
  const { from, to } = filter;
  if (!(from < to)) throw new MalformedInputError('filter.from: `from` must be before `to`');
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * 24 * HOUR_MS) {
    throw new MalformedInputError(`filter.to: A report spans at most ${MAX_RANGE_DAYS} days`);
  }
  const groups = [...new Set(groupBy)];
  const firstHour = new Date(Math.ceil(from.getTime() / HOUR_MS) * HOUR_MS);
  const endHour = new Date(Math.floor(to.getTime() / HOUR_MS) * HOUR_MS);
  const hours = firstHour < endHour;

  const conditions: string[] = [];
  const params: unknown[] = [];
  const anyOf = (column: string, values: string[] | null | undefined) => {
    if (values == null) return;
    conditions.push(values.length === 0 ? 'false' : `${column} in (?)`);
    if (values.length > 0) params.push(values);
  };
  anyOf('u.project_id', filter.projectIds);
  anyOf('u.identity_id', filter.identityIds);
  anyOf('u.api_key_id', filter.apiKeyIds);
  anyOf('u.model', filter.models);
  anyOf('u.member_id', filter.memberIds);
  anyOf('u.meter', filter.meters);

  const wallets = `select id from wallets where organization_id = ?${filter.workspaceId ? ' and workspace_id = ?' : ''}`;
  const walletParams = filter.workspaceId ? [organizationId, filter.workspaceId] : [organizationId];
  // The ledger's rows in the partial hours (all of [from, to) when it has no whole hour), one
  // branch per range so that each is one index range scan.
  const edges = (hours ? [[from, firstHour], [endHour, to]] : [[from, to]]).filter(([start, end]) => start < end);
  const selected = groups.map((group) => `${GROUP_COLUMNS[group]} as ${columnName(group)}`);
  const rows = await em.execute<SumRow[]>(
    `with u as (
       select wallet_id, hour as at, api_key_id, identity_id, project_id, model, member_id, meter, cost, provider_cost, markup,
              case when meter is null then 0 else cost end as metered_cost, input_tokens, output_tokens, requests
         from usage_hourly
        where ${hours ? `wallet_id in (${wallets}) and hour >= ? and hour < ?` : 'false'}
${edges
  .map(
    () => `
       union all
       select wallet_id, created_at, api_key_id, identity_id, project_id, model, member_id, meter, -amount,
              case when meter is null then coalesce(provider_cost, -amount) else 0 end, coalesce(markup, 0),
              case when meter is null then 0 else -amount end, input_tokens, output_tokens, case when meter is null then 1 else 0 end
         from transactions
        where type in ('DEDUCTION', 'METERED') and wallet_id in (${wallets}) and created_at >= ? and created_at < ?`,
  )
  .join('')})
     select ${[...selected, 'sum(cost)::text as cost', 'sum(provider_cost)::text as provider_cost', 'sum(markup)::text as markup', 'sum(metered_cost)::text as metered_cost', 'sum(input_tokens)::text as input_tokens', 'sum(output_tokens)::text as output_tokens', 'sum(requests)::text as requests'].join(', ')}
       from u
      ${conditions.length > 0 ? `where ${conditions.join(' and ')}` : ''}
      ${groups.length > 0 ? `group by ${groups.map((_, i) => i + 1).join(', ')} order by ${groups.map((_, i) => i + 1).join(', ')}` : ''}
      limit ${MAX_GROUPS + 1}`,
    [...(hours ? [...walletParams, firstHour, endHour] : []), ...edges.flatMap((range) => [...walletParams, ...range]), ...params],
  );
  if (rows.length > MAX_GROUPS) {
    throw new MalformedInputError(`groupBy: The report would have more than ${MAX_GROUPS} groups: narrow the range, filter or grouping`);
  }
  const reportRows = rows
    .filter((row) => groups.length > 0 || row.cost !== null)
    .map((row) => ({
      day: row.day ? new Date(row.day) : null,
      projectId: row.project_id ?? null,
      identityId: row.identity_id ?? null,
      apiKeyId: row.api_key_id ?? null,
      model: row.model ?? null,
      memberId: row.member_id ?? null,
      meter: row.meter ?? null,
      ...amounts(row),
    }));
  const total = reportRows.reduce(
    (sum, row) => ({
      cost: sum.cost + row.cost,
      providerCost: sum.providerCost + row.providerCost,
      markup: sum.markup + row.markup,
      meteredCost: sum.meteredCost + row.meteredCost,
      inputTokens: sum.inputTokens + row.inputTokens,
      outputTokens: sum.outputTokens + row.outputTokens,
      requests: sum.requests + row.requests,
    }),
    { cost: 0n, providerCost: 0n, markup: 0n, meteredCost: 0n, inputTokens: 0n, outputTokens: 0n, requests: 0n },
  );
  return { rows: reportRows, total };
}

function columnName(group: UsageGroup): string {
  return group === UsageGroup.DAY ? 'day' : group === UsageGroup.MODEL ? 'model' : group === UsageGroup.METER ? 'meter' : `${group.toLowerCase()}_id`;
}

function amounts(row: SumRow): UsageAmounts {
  return {
    cost: BigInt(row.cost ?? 0),
    providerCost: BigInt(row.provider_cost ?? 0),
    markup: BigInt(row.markup ?? 0),
    meteredCost: BigInt(row.metered_cost ?? 0),
    inputTokens: BigInt(row.input_tokens ?? 0),
    outputTokens: BigInt(row.output_tokens ?? 0),
    requests: BigInt(row.requests ?? 0),
  };
}
