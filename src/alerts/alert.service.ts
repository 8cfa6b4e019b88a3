import type { EntityManager } from '@mikro-orm/postgresql';
import { Alert } from '../../entities';
import type { MemberActor } from '../actor';
import { keysetPagesByParent, type Page, type PageArgs } from '../db/keyset';
import type { Deps } from '../deps';
import { DomainError, UserErrorCode } from '../errors';

/** Organizations' alerts, newest first; only the open (or only the acknowledged) ones on request. */
export function alertPagesOfOrganizations(em: EntityManager, organizationIds: string[], page: PageArgs, acknowledged: boolean | null): Promise<Array<Page<Alert>>> {
  const sql = acknowledged === null ? [] : [acknowledged ? 'acknowledged_at is not null' : 'acknowledged_at is null'];
  return keysetPagesByParent(em, Alert, 'alerts', 'organization_id', organizationIds, page, { sql, params: [] });
}

/** Marks an alert as seen; acknowledging it again keeps the first acknowledgement. */
export async function acknowledgeAlert({ em, now }: Pick<Deps, 'em' | 'now'>, actor: MemberActor, { alertId }: { alertId: string }): Promise<Alert> {
  const { organizationId, memberId } = actor;
  await em.nativeUpdate(Alert, { id: alertId, organization: organizationId, acknowledgedAt: null }, { acknowledgedAt: now(), acknowledgedBy: memberId });
  // Read after the update, not refreshed: MikroORM's refresh leaves bigint columns as strings.
  const alert = await em.findOne(Alert, { id: alertId, organization: organizationId });
  if (!alert) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such alert', ['input', 'alertId']);
  return alert;
}
