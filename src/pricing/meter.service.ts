import type { AdminActor } from '../actor';
import { inTransaction } from '../db/transaction';
import type { Deps } from '../deps';
import { DomainError, MalformedInputError, UserErrorCode } from '../errors';
import { Period, periodStart } from '../limits/periods';
import { requireNonNegative, requireText } from '../validation';

/** The operator's meters are few (traces, …): listed whole. */
export const MAX_METERS = 50;
const METER_NAME = /^[a-z][a-z0-9_.-]{0,63}$/;
/** $1,000 a unit: with at most a million units a report, one report's charge stays far inside a bigint. */
export const MAX_UNIT_PRICE = 10n ** 12n;

/** A metered extra: its unit price beyond the quantity included each UTC calendar month. */
export interface Meter {
  name: string;
  unitPrice: bigint;
  includedPerMonth: bigint;
  updatedAt: Date;
}

/** A meter as one workspace has it: its allowance, and its count this month. */
export interface WorkspaceMeter {
  meter: Meter;
  includedPerMonth: bigint;
  /** The workspace has its own allowance, not the meter's. */
  overridden: boolean;
  monthStart: Date;
  /** Units reported this month, those charged (beyond the allowance in force at each report), and what they cost. */
  used: bigint;
  billed: bigint;
  cost: bigint;
}

export interface MeterSetInput {
  name: string;
  unitPrice: bigint;
  includedPerMonth: bigint;
}

export interface MeterAllowanceSetInput {
  workspaceId: string;
  meter: string;
  /** Null: the workspace's own allowance removed, the meter's applies again; left out is refused. */
  includedPerMonth?: bigint | null;
}

interface MeterRow {
  name: string;
  unit_price: string;
  included_per_month: string;
  updated_at: Date;
}

const meterOf = (row: MeterRow): Meter => ({
  name: row.name,
  unitPrice: BigInt(row.unit_price),
  includedPerMonth: BigInt(row.included_per_month),
  updatedAt: new Date(row.updated_at),
});

function requireMeterName(name: string): string {
  requireText(name, 'name', 64);
  if (!METER_NAME.test(name)) {
    throw new DomainError(UserErrorCode.INVALID, 'name: lower-case letters, digits, ".", "_" or "-", starting with a letter, at most 64', ['input', 'name']);
  }
  return name;
}

/**
 * Defines a meter or changes its price and allowance. Applies to reports from now on: what was
 * charged stays, and this month's count goes on against the new allowance.
 */
export async function setMeter({ em, now }: Pick<Deps, 'em' | 'now'>, _admin: AdminActor, input: MeterSetInput): Promise<Meter> {
  const name = requireMeterName(input.name);
  const unitPrice = requireNonNegative(input.unitPrice, 'unitPrice');
  if (unitPrice > MAX_UNIT_PRICE) throw new DomainError(UserErrorCode.INVALID, 'unitPrice is at most 1000 (USD)', ['input', 'unitPrice']);
  const included = requireNonNegative(input.includedPerMonth, 'includedPerMonth');
  return inTransaction(em, async (tx) => {
    const [{ count }] = await tx.execute<Array<{ count: string }>>('select count(*)::text as count from meters where name <> ?', [name]);
    if (BigInt(count) >= MAX_METERS) throw new DomainError(UserErrorCode.INVALID, `At most ${MAX_METERS} meters`, ['input', 'name']);
    const [row] = await tx.execute<MeterRow[]>(
      `insert into meters (name, unit_price, included_per_month, created_at, updated_at) values (?, ?::bigint, ?::bigint, ?::timestamptz, ?::timestamptz)
       on conflict (name) do update set unit_price = excluded.unit_price, included_per_month = excluded.included_per_month, updated_at = excluded.updated_at
       returning name, unit_price::text, included_per_month::text, updated_at`,
      [name, String(unitPrice), String(included), now().toISOString(), now().toISOString()],
    );
    return meterOf(row);
  });
}

/** Gives a workspace its own monthly allowance of a meter, or takes it away (null). */
export async function setMeterAllowance(deps: Pick<Deps, 'em' | 'now'>, _admin: AdminActor, input: MeterAllowanceSetInput): Promise<WorkspaceMeter> {
  // Null removes the workspace's own allowance; left out, the request says neither.
  if (input.includedPerMonth === undefined) {
    throw new MalformedInputError("input.includedPerMonth: give the units included per month, or null to remove the workspace's own allowance");
  }
  const included = input.includedPerMonth === null ? null : requireNonNegative(input.includedPerMonth, 'includedPerMonth');
  await inTransaction(deps.em, async (tx) => {
    const [workspace] = await tx.execute('select id from workspaces where id = ?', [input.workspaceId]);
    if (!workspace) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such workspace', ['input', 'workspaceId']);
    const [meter] = await tx.execute('select name from meters where name = ?', [input.meter]);
    if (!meter) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such meter', ['input', 'meter']);
    if (included === null) {
      await tx.execute('delete from workspace_meter_allowances where workspace_id = ? and meter = ?', [input.workspaceId, input.meter]);
    } else {
      await tx.execute(
        `insert into workspace_meter_allowances (workspace_id, meter, included_per_month) values (?, ?, ?::bigint)
         on conflict (workspace_id, meter) do update set included_per_month = excluded.included_per_month`,
        [input.workspaceId, input.meter, String(included)],
      );
    }
  });
  return (await workspaceMeters(deps, input.workspaceId)).find((entry) => entry.meter.name === input.meter)!;
}

export async function listMeters({ em }: Pick<Deps, 'em'>): Promise<Meter[]> {
  return (await em.execute<MeterRow[]>('select name, unit_price::text, included_per_month::text, updated_at from meters order by name')).map(meterOf);
}

/** Every meter as the workspace has it this month (by the server's clock). */
export async function workspaceMeters({ em, now }: Pick<Deps, 'em' | 'now'>, workspaceId: string): Promise<WorkspaceMeter[]> {
  const monthStart = periodStart(Period.MONTHLY, now());
  const rows = await em.execute<Array<MeterRow & { own: string | null; used: string | null; billed: string | null; cost: string | null }>>(
    `select m.name, m.unit_price::text, m.included_per_month::text, m.updated_at, a.included_per_month::text as own,
            u.quantity::text as used, u.billed_quantity::text as billed, u.cost::text as cost
       from meters m
       left join workspace_meter_allowances a on a.meter = m.name and a.workspace_id = ?
       left join meter_usage u on u.meter = m.name and u.workspace_id = ? and u.month_start = ?::timestamptz
      order by m.name`,
    [workspaceId, workspaceId, monthStart.toISOString()],
  );
  return rows.map((row) => ({
    meter: meterOf(row),
    includedPerMonth: BigInt(row.own ?? row.included_per_month),
    overridden: row.own !== null,
    monthStart,
    used: BigInt(row.used ?? 0),
    billed: BigInt(row.billed ?? 0),
    cost: BigInt(row.cost ?? 0),
  }));
}
