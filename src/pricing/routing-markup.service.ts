import type { AdminActor } from '../actor';
import { inTransaction } from '../db/transaction';
import type { Deps } from '../deps';
import { DomainError, UserErrorCode } from '../errors';
import { RoutingMode } from '../gateway/contract';
import { MAX_MARKUP_BASIS_POINTS } from '../workspaces/workspace.service';

/** A routing mode's markup: the operator's, or a workspace's own where the platform admin set one. */
export interface RoutingMarkup {
  mode: RoutingMode;
  markupBasisPoints: number;
  /** The workspace's own markup, not the operator's. */
  overridden: boolean;
}

export interface RoutingMarkupSetInput {
  mode: RoutingMode;
  /** Null with a workspace: its own markup removed, the operator's applies again. */
  markupBasisPoints: number | null;
  /** Left out: the operator's markup for every workspace without its own. */
  workspaceId?: string | null;
}

function requireMarkup(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_MARKUP_BASIS_POINTS) {
    throw new DomainError(UserErrorCode.INVALID, `markupBasisPoints must be between 0 and ${MAX_MARKUP_BASIS_POINTS} (1000 is 10%)`, ['input', 'markupBasisPoints']);
  }
  return value;
}

/**
 * Sets the markup of a routing mode for every workspace, or one workspace's own. DIRECT calls
 * (no routing) have the workspace's markup (`workspaceUpdate`). Applies to calls authorized or
 * debited afterwards.
 */
export async function setRoutingMarkup({ em }: Pick<Deps, 'em'>, _admin: AdminActor, input: RoutingMarkupSetInput): Promise<RoutingMarkup[]> {
  if (input.mode === RoutingMode.DIRECT) {
    throw new DomainError(UserErrorCode.INVALID, "DIRECT calls have the workspace's own markup: set it with workspaceUpdate", ['input', 'mode']);
  }
  const workspaceId = input.workspaceId ?? null;
  if (workspaceId === null && input.markupBasisPoints === null) {
    throw new DomainError(UserErrorCode.INVALID, "The operator's markup of a mode cannot be removed, only changed", ['input', 'markupBasisPoints']);
  }
  await inTransaction(em, async (tx) => {
    if (workspaceId !== null) {
      const [workspace] = await tx.execute('select id from workspaces where id = ?', [workspaceId]);
      if (!workspace) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such workspace', ['input', 'workspaceId']);
    }
    if (input.markupBasisPoints === null) {
      await tx.execute('delete from workspace_routing_markups where workspace_id = ? and mode = ?', [workspaceId, input.mode]);
    } else if (workspaceId === null) {
      await tx.execute('update routing_markups set markup_bps = ? where mode = ?', [requireMarkup(input.markupBasisPoints), input.mode]);
    } else {
      await tx.execute(
        `insert into workspace_routing_markups (workspace_id, mode, markup_bps) values (?, ?, ?)
         on conflict (workspace_id, mode) do update set markup_bps = excluded.markup_bps`,
        [workspaceId, input.mode, requireMarkup(input.markupBasisPoints)],
      );
    }
  });
  return routingMarkups({ em }, workspaceId);
}

/** The routing modes' markups in force: the operator's (no workspace), or a workspace's (DIRECT: its own markup). */
export async function routingMarkups({ em }: Pick<Deps, 'em'>, workspaceId: string | null): Promise<RoutingMarkup[]> {
  const rows = await em.execute<Array<{ mode: RoutingMode; markup_bps: number; overridden: boolean }>>(
    `select r.mode, coalesce(w.markup_bps, r.markup_bps) as markup_bps, w.markup_bps is not null as overridden
       from routing_markups r
       left join workspace_routing_markups w on w.mode = r.mode and w.workspace_id = ?
      order by r.mode`,
    [workspaceId],
  );
  const routed = rows.map((row) => ({ mode: row.mode, markupBasisPoints: row.markup_bps, overridden: row.overridden }));
  if (workspaceId === null) return routed;
  const [workspace] = await em.execute<Array<{ markup_bps: number }>>('select markup_bps from workspaces where id = ?', [workspaceId]);
  return [{ mode: RoutingMode.DIRECT, markupBasisPoints: workspace.markup_bps, overridden: true }, ...routed];
}
