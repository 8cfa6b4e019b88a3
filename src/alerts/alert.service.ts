import type { EntityManager } from '@mikro-orm/postgresql';
import { Alert } from '../../entities';
import { keysetPage, type Page, type PageArgs } from '../db/keyset';
import { DomainError, UserErrorCode } from '../errors';

/** An organization's alerts, newest first; only the open (or only the acknowledged) ones on request. */
export function listAlerts(em: EntityManager, organizationId: string, page: PageArgs, acknowledged: boolean | null | undefined): Promise<Page<Alert>> {
  const where =
    acknowledged == null
      ? { organization: organizationId }
      : { organization: organizationId, acknowledgedAt: acknowledged ? { $ne: null } : null };
  return keysetPage(em, Alert, where, page);
}

/** Marks an alert as seen; acknowledging it again keeps the first acknowledgement. */
export async function acknowledgeAlert(em: EntityManager, organizationId: string, alertId: string, memberId: string): Promise<Alert> {
  const fork = em.fork();
  const alert = await fork.findOne(Alert, { id: alertId, organization: organizationId });
  if (!alert) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such alert', ['input', 'alertId']);
  if (!alert.acknowledgedAt) {
    await fork.nativeUpdate(Alert, { id: alertId, acknowledgedAt: null }, { acknowledgedAt: new Date(), acknowledgedBy: memberId });
    await fork.refresh(alert);
  }
  return alert;
}
