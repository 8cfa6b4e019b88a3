import type { Deps } from '../deps';
import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Alert, AlertWebhookStatus, Organization } from '../../entities';
import { type MemberActor, ownOrganization } from '../actor';
import { inTransaction } from '../db/transaction';
import { DomainError, UserErrorCode } from '../errors';
import { randomBase62 } from '../ids';
import { inTransactionOf, type JobQueue, jobIdFor, QUEUES } from '../jobs/queue';
import { formatMoney } from '../money';
import { NonPublicAddressError, type WebhookDestinations } from './webhook-destinations';
import type { Worker } from '../worker';

/** The header that carries `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const SIGNATURE_HEADER = 'tollgate-signature';
/** Attempts per alert before it counts as FAILED (the job queue waits 2 s, then twice as long each time). */
export const MAX_DELIVERY_ATTEMPTS = 10;
const DELIVERY_TIMEOUT_MS = 10_000;
const MAX_URL_LENGTH = 2000;

/** The signature a receiver recomputes with the secret to know the body is ours and recent. */
export function signWebhook(secret: string, body: string, at: Date): string {
  const timestamp = Math.floor(at.getTime() / 1000);
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * Sets where the organization's alerts go and makes a new signing secret, returned only here.
 * A retry makes another secret and returns it: the last one answered is the one in force.
 */
export async function setAlertWebhook(
  { em, webhookDestinations: destinations }: Pick<Deps, 'em' | 'webhookDestinations'>,
  { organizationId }: MemberActor,
  { url }: { url: string },
): Promise<{ organization: Organization; signingSecret: string }> {
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    parsed = null;
  }
  if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || url.length > MAX_URL_LENGTH) {
    throw new DomainError(UserErrorCode.INVALID, `The webhook URL must be an http(s) URL of at most ${MAX_URL_LENGTH} characters`, ['input', 'url']);
  }
  try {
    await destinations.check(parsed);
  } catch (error) {
    if (error instanceof NonPublicAddressError) throw new DomainError(UserErrorCode.INVALID, `The webhook URL must reach a public address: ${error.message}`, ['input', 'url']);
    throw error;
  }
  const signingSecret = `tgw_${randomBase62(32)}`;
  await em.nativeUpdate(Organization, { id: organizationId }, { alertWebhookUrl: parsed.href, alertWebhookSecret: signingSecret });
  return { organization: await em.findOneOrFail(Organization, organizationId), signingSecret };
}

/** Stops sending alerts; those already owed are marked FAILED when their turn comes. */
export async function removeAlertWebhook({ em }: Pick<Deps, 'em'>, actor: MemberActor, input: { organizationId?: string | null }): Promise<Organization> {
  const organizationId = ownOrganization(actor, input.organizationId);
  await em.nativeUpdate(Organization, { id: organizationId }, { alertWebhookUrl: null, alertWebhookSecret: null });
  return em.findOneOrFail(Organization, organizationId);
}

/** One job per alert, so that queuing it twice queues it once. */
const jobIdOf = (alertId: string) => jobIdFor(`alert-webhook:${alertId}`);

interface DeliveryJob {
  alertId: string;
}

/** The JSON an alert is sent as: money as exact decimal strings of USD, like the API. */
function webhookBody(alert: Alert): string {
  return JSON.stringify({
    type: 'alert.raised',
    alert: {
      id: alert.id,
      kind: alert.kind,
      message: alert.message,
      organizationId: alert.organization.id,
      walletId: alert.wallet?.id ?? null,
      threshold: alert.threshold == null ? null : formatMoney(alert.threshold),
      balance: alert.balance == null ? null : formatMoney(alert.balance),
      recipientMemberIds: alert.recipientMemberIds,
      createdAt: alert.createdAt.toISOString(),
    },
  });
}

/** `now` signs deliveries. */
export type AlertWebhookServices = Pick<Deps, 'em' | 'logger' | 'now'> & { jobs: JobQueue; destinations: WebhookDestinations };

/** POSTs the body and answers the response's status; a redirect is not followed. */
function post(url: URL, headers: Record<string, string>, body: string, destinations: WebhookDestinations): Promise<number> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
        // Its own connection each time, made through the destination check (no pooled socket).
        agent: false,
        ...destinations.connectOptions(url),
      },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * Delivers alerts to their organization's webhook. The alerts table is the outbox: every alert
 * owed a delivery is PENDING (a trigger sees to it, whatever raised the alert), and a relay
 * turns PENDING alerts into jobs in one transaction, so that none is lost or sent twice by a
 * crash between the two. Jobs retry with the queue's backoff until delivered or out of attempts.
 */
export class AlertWebhooks implements Worker {
  readonly name = 'alert webhooks';
  private relayTimer: NodeJS.Timeout | null = null;
  private relaying: Promise<void> = Promise.resolve();
  private workerId: string | null = null;

  constructor(
    private readonly services: AlertWebhookServices,
    private readonly intervals: { relayMs: number; pollingSeconds: number },
  ) {}

  /** Relays PENDING alerts every `relayMs` and takes delivery jobs. */
  async start(): Promise<void> {
    const { relayMs, pollingSeconds } = this.intervals;
    this.workerId = await this.services.jobs.work<DeliveryJob>(QUEUES.alertWebhook, { batchSize: 1, pollingIntervalSeconds: pollingSeconds }, ([job]) =>
      this.deliver(job.data.alertId),
    );
    this.relayTimer = setInterval(() => {
      this.relaying = this.relaying.then(async () => void (await this.relay())).catch((error) => this.services.logger.warn({ err: error }, 'alert webhooks not queued'));
    }, relayMs);
  }

  async stop(): Promise<void> {
    if (this.relayTimer) clearInterval(this.relayTimer);
    await this.relaying;
    if (this.workerId) await this.services.jobs.offWork({ id: this.workerId });
  }

  /** Queues a job for each PENDING alert (a batch at a time), in the transaction that marks it QUEUED. */
  async relay(): Promise<number> {
    const { jobs } = this.services;
    const queued = await inTransaction(this.services.em, async (tx) => {
      const rows = await tx.execute<Array<{ id: string }>>(
        `update alerts set webhook_status = 'QUEUED'
          where id in (select id from alerts where webhook_status = 'PENDING' order by created_at limit 100 for update skip locked)
          returning id`,
      );
      for (const { id } of rows) await jobs.send(QUEUES.alertWebhook, { alertId: id } satisfies DeliveryJob, { ...inTransactionOf(tx), id: jobIdOf(id) });
      return rows.length;
    });
    if (queued > 0 && this.workerId) jobs.notifyWorker(this.workerId);
    return queued;
  }

  /** One attempt; a failure is thrown so that the queue tries again later, until the last attempt. */
  async deliver(alertId: string): Promise<void> {
    // A unit of work of its own per job: the worker's em is the server's root one.
    const em = this.services.em.fork();
    const alert = await em.findOne(Alert, { id: alertId, webhookStatus: AlertWebhookStatus.QUEUED }, { populate: ['organization'] });
    if (!alert) return;
    const { alertWebhookUrl: url, alertWebhookSecret: secret } = alert.organization;
    if (!url || !secret) {
      await this.record(em, alertId, 'FAILED', 'The organization removed its webhook');
      return;
    }
    const body = webhookBody(alert);
    let failure: string | null = null;
    try {
      const status = await post(new URL(url), { 'content-type': 'application/json', [SIGNATURE_HEADER]: signWebhook(secret, body, this.services.now()) }, body, this.services.destinations);
      if (status < 200 || status >= 300) failure = `The webhook answered HTTP ${status}`;
    } catch (error) {
      if (error instanceof NonPublicAddressError) {
        // Set before the check existed, or its name now resolves elsewhere: not retried, the URL must change.
        const reason = `Not sent: ${error.message}`;
        this.services.logger.warn({ alertId, organizationId: alert.organization.id, host: error.host, address: error.address, reason }, 'alert webhook refused');
        await this.record(em, alertId, 'FAILED', reason);
        return;
      }
      failure = `The webhook could not be reached: ${(error as Error).message}`;
    }
    if (failure === null) {
      await this.record(em, alertId, 'DELIVERED', null);
      return;
    }
    if ((await this.record(em, alertId, 'QUEUED', failure)) !== 'FAILED') throw new Error(failure);
  }

  /**
   * Counts an attempt and sets the status; a QUEUED alert out of attempts becomes FAILED. The
   * status it ends with.
   */
  private async record(em: EntityManager, alertId: string, status: 'DELIVERED' | 'FAILED' | 'QUEUED', error: string | null): Promise<string | null> {
    const [row] = await em.execute<Array<{ webhook_status: string }>>(
      `update alerts set webhook_attempts = webhook_attempts + 1, webhook_error = ?,
              webhook_status = case when ? = 'QUEUED' and webhook_attempts + 1 >= ? then 'FAILED' else ? end
        where id = ? returning webhook_status`,
      [error, status, MAX_DELIVERY_ATTEMPTS, status, alertId],
    );
    return row?.webhook_status ?? null;
  }
}
