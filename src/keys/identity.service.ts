import { Identity, Workspace } from '../../entities';
import type { MemberActor } from '../actor';
import { inTransaction } from '../db/transaction';
import type { Deps } from '../deps';
import { DomainError, UserErrorCode } from '../errors';
import { newId } from '../ids';
import type { Period } from '../limits/periods';
import { type BudgetSetting, requireBudget } from '../validation';

export const MAX_EXTERNAL_ID_LENGTH = 255;

export interface IdentityUpsertInput {
  workspaceId: string;
  externalId: string;
  budget?: BudgetSetting<Period> | null;
}

/** The customer's own id of an end user, taken verbatim (not trimmed): it is matched exactly. */
function requireExternalId(value: string): string {
  if (value.length === 0 || value.length > MAX_EXTERNAL_ID_LENGTH) {
    throw new DomainError(UserErrorCode.INVALID, `externalId must be 1 to ${MAX_EXTERNAL_ID_LENGTH} characters`, ['input', 'externalId']);
  }
  return value;
}

/**
 * Creates the identity of (workspace, externalId) or changes its budget; a budget left out
 * stays as it is. One statement decides insert or update, so concurrent upserts of the same
 * external id all succeed and leave one row.
 */
export async function upsertIdentity({ em }: Pick<Deps, 'em'>, actor: MemberActor, input: IdentityUpsertInput) {
  const externalId = requireExternalId(input.externalId);
  const budget = requireBudget(input.budget, 'budget');
  return inTransaction(em, async (tx) => {
    const workspace = await tx.findOne(Workspace, { id: input.workspaceId, organization: actor.organizationId });
    if (!workspace) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such workspace', ['input', 'workspaceId']);
    const keep = budget === undefined;
    const [row] = await tx.execute<Array<{ id: string }>>(
      `insert into identities (id, organization_id, workspace_id, external_id, budget, budget_period)
       values (?, ?, ?, ?, ?::bigint, ?)
       on conflict (workspace_id, external_id) do update
          set budget = case when ?::boolean then identities.budget else excluded.budget end,
              budget_period = case when ?::boolean then identities.budget_period else excluded.budget_period end
       returning id`,
      [
        newId('identity'),
        actor.organizationId,
        workspace.id,
        externalId,
        budget?.amount.toString() ?? null,
        budget?.period ?? null,
        keep,
        keep,
      ],
    );
    return tx.findOneOrFail(Identity, row.id);
  });
}
