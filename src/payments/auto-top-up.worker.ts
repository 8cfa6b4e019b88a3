import type { Deps } from '../deps';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AlertKind, Purchase, PurchaseStatus } from '../../entities';
import { inTransaction } from '../db/transaction';
import { newId } from '../ids';
import { inTransactionOf, type JobQueue, QUEUES } from '../jobs/queue';
import { AutoTopUpEventKind, TOPICS } from '../realtime/pubsub';
import { bonusFor } from './bonus';
import { defaultCardOf } from './payment-methods.service';
import { createIntent, failPurchase, issueInvoice, type PaymentServices, settleIntent } from './purchase.service';
import { isPaymentRefusal, requireStripe } from './stripe';
import type { Worker } from '../worker';

/** Declined payments in a row after which auto top-up turns itself off. */
export const MAX_FAILURES_IN_A_ROW = 3;

/**
 * A wallet whose start found nothing to do (a top-up in flight, the daily limit reached) or
 * failed is not looked at again by this process for this long: a hot wallet is reported by every
 * batch.
 */
const RECHECK_AFTER_MS = 1000;
/** Top-ups charged at once by one process. */
const WORKERS = 4;

interface AttemptJob {
  purchaseId: string;
  attempt: number;
}

/** `now` dates the daily-limit alert. */
export type AutoTopUpServices = PaymentServices & Pick<Deps, 'logger' | 'autoTopUp' | 'now'> & { jobs: JobQueue };

/**
 * Auto top-up: a wallet with auto top-up on found below its threshold starts one purchase of
 * the wallet's top-up amount, charged off-session to the organization's default card by a job.
 * It is found there by whatever can help: a gateway debit that takes it there, a debit refused
 * for lack of credits while it is there, a refund, transfer or adjustment that leaves it there
 * (every posting of the ledger), and auto top-up turned on while it is there.
 *
 * - One in flight per wallet, across every process: the purchase row is inserted under a
 *   partial unique index, so of any number of concurrent starts one inserts and the rest do
 *   nothing. The job is sent in the same transaction, so a started top-up always has its job.
 * - Each attempt is its own PaymentIntent with its own idempotency key: the job for an attempt
 *   can run again (after a crash, a timeout, Stripe unreachable) and meets the same intent, so
 *   the card is charged once per attempt and the credits are granted once.
 * - A declined attempt is recorded on the purchase and tried again after a delay that doubles;
 *   the third decline in a row turns auto top-up off with its reason and raises an alert.
 * - At most `dailyLimit` top-ups per wallet in any 24 hours; reaching it raises an alert, once a day.
 */
export class AutoTopUps implements Worker {
  readonly name = 'auto top-ups';
  /** Starts under way, by wallet: a wallet reported meanwhile is left to its start. */
  private readonly starting = new Map<string, Promise<void>>();
  /** Until when wallets whose start found nothing to do are left alone. */
  private readonly quietUntil = new Map<string, number>();
  private workerIds: string[] = [];

  constructor(
    private readonly services: AutoTopUpServices,
    /** How often an idle worker looks for a job. */
    private readonly pollingIntervalSeconds: number,
  ) {}

  /** Takes attempt jobs, a few at once. */
  async start(): Promise<void> {
    const { pollingIntervalSeconds } = this;
    for (let i = 0; i < WORKERS; i += 1) {
      const id = await this.services.jobs.work<AttemptJob>(QUEUES.autoTopUp, { batchSize: 1, pollingIntervalSeconds }, ([job]) => this.runAttempt(job.data));
      this.workerIds.push(id);
    }
  }

  /** Top-ups per wallet in any 24 hours. */
  get dailyLimit(): number {
    return this.services.autoTopUp.dailyLimit;
  }

  /** Called after a commit with the wallets it left below their threshold; never throws. */
  walletsBelowThreshold(walletIds: string[]): void {
    // Process time, not business time: how long this process leaves a wallet alone.
    const now = Date.now();
    for (const [walletId, until] of this.quietUntil) if (until <= now) this.quietUntil.delete(walletId);
    for (const walletId of walletIds) {
      if (this.starting.has(walletId) || this.quietUntil.has(walletId)) continue;
      const started = this.startTopUp(walletId)
        .then(
          (purchaseId) => purchaseId === null,
          (error) => {
            this.services.logger.error({ err: error, walletId }, 'auto top-up could not start');
            return true;
          },
        )
        .then((quiet) => {
          this.starting.delete(walletId);
          if (quiet) this.quietUntil.set(walletId, Date.now() + RECHECK_AFTER_MS);
        });
      this.starting.set(walletId, started);
    }
  }

  /** Resolves when the starts begun so far are done. */
  async drain(): Promise<void> {
    await Promise.all([...this.starting.values()]);
  }

  /**
   * Starts a top-up if the wallet is below its threshold with auto top-up on, none is in flight
   * and the daily limit allows; the purchase's id, or null when none was started.
   */
  async startTopUp(walletId: string): Promise<string | null> {
    const { em, jobs, autoTopUp, now } = this.services;
    const [wallet] = await em.execute<Array<{ amount: string }>>(
      'select auto_top_up_amount::text as amount from wallets where id = ? and auto_top_up_enabled and balance < auto_top_up_threshold',
      [walletId],
    );
    if (!wallet) return null;
    const amount = BigInt(wallet.amount);
    const bonus = autoTopUp.bonus ? bonusFor(amount, this.services.bonusTiers) : 0n;
    const started = await inTransaction(em, async (tx) => {
      // Waits for a top-up in flight that is being settled, so that the statement below reads the
      // balance it left: a wallet just topped up is not topped up again.
      await tx.execute(
        `select id from purchases where wallet_id = ? and kind = 'AUTO_TOP_UP' and status in ('PENDING', 'REQUIRES_ACTION') for no key update`,
        [walletId],
      );
      const [row] = await tx.execute<Array<{ purchase_id: string | null; organization_id: string | null; limited: boolean }>>(
        `with wallet as (
           select id, organization_id from wallets
            where id = ? and auto_top_up_enabled and balance < auto_top_up_threshold and auto_top_up_amount = ?),
         recent as (
           select count(*) as top_ups, count(*) filter (where status in ('PENDING', 'REQUIRES_ACTION')) as in_flight
             from purchases where wallet_id = ? and kind = 'AUTO_TOP_UP' and created_at > now() - interval '24 hours'),
         started as (
           insert into purchases (id, organization_id, wallet_id, kind, amount, bonus, status)
           select ?, wallet.organization_id, wallet.id, 'AUTO_TOP_UP', ?, ?, 'PENDING'
             from wallet, recent where recent.top_ups < ?
           on conflict (wallet_id) where kind = 'AUTO_TOP_UP' and status in ('PENDING', 'REQUIRES_ACTION') do nothing
           returning id)
         select (select id from started) as purchase_id, wallet.organization_id, recent.top_ups >= ? and recent.in_flight = 0 as limited
           from wallet, recent`,
        [walletId, String(amount), walletId, newId('purchase'), String(amount), String(bonus), autoTopUp.dailyLimit, autoTopUp.dailyLimit],
      );
      if (row?.limited) {
        await raiseAlert(
          tx,
          row.organization_id!,
          walletId,
          AlertKind.AUTO_TOP_UP_DAILY_LIMIT,
          `Auto top-up reached its limit of ${autoTopUp.dailyLimit} top-ups in 24 hours; it resumes as the oldest of them ages past a day`,
          `auto-top-up-limit:${walletId}:${now().toISOString().slice(0, 10)}`,
        );
      }
      if (!row?.purchase_id) return null;
      await jobs.send(QUEUES.autoTopUp, { purchaseId: row.purchase_id, attempt: 1 } satisfies AttemptJob, inTransactionOf(tx));
      return row.purchase_id;
    });
    if (!started) return null;
    this.publish(walletId, started, AutoTopUpEventKind.STARTED, 1, null);
    // Committed: this process's workers take it now rather than at their next poll.
    this.workerIds.forEach((id) => jobs.notifyWorker(id));
    return started;
  }

  /** One attempt of a top-up; a job run again for an attempt that is over does nothing. */
  async runAttempt({ purchaseId, attempt }: AttemptJob): Promise<void> {
    // The job is a unit of work of its own: the worker's em is the server's root one.
    const services = { ...this.services, em: this.services.em.fork() };
    const { em, logger } = services;
    const stripe = requireStripe(services.stripe);
    const purchase = await em.findOne(Purchase, purchaseId, { populate: ['wallet'] });
    if (!purchase || purchase.status !== PurchaseStatus.PENDING || purchase.attempt !== attempt) return;
    if (!purchase.wallet.autoTopUpEnabled) {
      await this.giveUp(em, purchase, 'Auto top-up was turned off before the payment was made');
      return;
    }
    const card = await defaultCardOf(em, purchase.organization.id);
    if (card === null) {
      await this.giveUp(em, purchase, 'The organization has no saved card to charge');
      return;
    }
    purchase.paymentMethodId = card;
    await em.nativeUpdate(Purchase, { id: purchaseId }, { paymentMethodId: purchase.paymentMethodId });
    let declined: string;
    try {
      const intent = await createIntent(services, stripe, purchase, `tollgate-auto-top-up-${purchaseId}-${attempt}`, true);
      if (intent.status === 'succeeded') {
        await settleIntent(services, intent);
        // Stripe failing here leaves the invoice to the payment_intent.succeeded webhook.
        await issueInvoice(services, purchaseId).catch((error) => logger.warn({ err: error, purchaseId }, 'auto top-up invoice not issued yet'));
        return;
      }
      declined = intent.last_payment_error?.message ?? `The payment could not complete without the card holder (${intent.status})`;
    } catch (error) {
      // Anything else (Stripe unreachable, a conflict with a run of this attempt still in
      // flight) fails the job, which runs again later with the same idempotency key.
      if (!isPaymentRefusal(error)) throw error;
      declined = error.message;
    }
    await this.recordDecline(purchaseId, attempt, declined);
  }

  private async recordDecline(purchaseId: string, attempt: number, reason: string): Promise<void> {
    const { em, jobs, autoTopUp, logger } = this.services;
    const outcome = await inTransaction(em, async (tx) => {
      const [purchase] = await tx.execute<Array<{ wallet_id: string; organization_id: string }>>(
        `update purchases set failure_reason = ? where id = ? and status = 'PENDING' and attempt = ? returning wallet_id, organization_id`,
        [reason, purchaseId, attempt],
      );
      if (!purchase) return null;
      const [wallet] = await tx.execute<Array<{ failures: number }>>(
        'update wallets set auto_top_up_failures = auto_top_up_failures + 1 where id = ? returning auto_top_up_failures as failures',
        [purchase.wallet_id],
      );
      if (wallet.failures < MAX_FAILURES_IN_A_ROW) {
        await tx.execute('update purchases set attempt = attempt + 1 where id = ?', [purchaseId]);
        const startAfter = autoTopUp.retryDelaySeconds * 2 ** (attempt - 1);
        await jobs.send(QUEUES.autoTopUp, { purchaseId, attempt: attempt + 1 } satisfies AttemptJob, { ...inTransactionOf(tx), startAfter });
        logger.warn({ purchaseId, attempt, reason, retryInSeconds: startAfter }, 'auto top-up declined; trying again later');
        return { walletId: purchase.wallet_id, disabledBecause: null };
      }
      await tx.execute(`update purchases set status = 'FAILED', completed_at = now() where id = ?`, [purchaseId]);
      const message = `Auto top-up was turned off after ${MAX_FAILURES_IN_A_ROW} declined payments in a row. The last: ${reason}`;
      await tx.execute('update wallets set auto_top_up_enabled = false, auto_top_up_disabled_reason = ? where id = ?', [message, purchase.wallet_id]);
      await raiseAlert(tx, purchase.organization_id, purchase.wallet_id, AlertKind.AUTO_TOP_UP_DISABLED, message, null);
      logger.warn({ purchaseId, walletId: purchase.wallet_id, reason }, 'auto top-up turned off after repeated declines');
      return { walletId: purchase.wallet_id, disabledBecause: message };
    });
    if (!outcome) return;
    this.publish(outcome.walletId, purchaseId, AutoTopUpEventKind.FAILED, attempt, reason);
    if (outcome.disabledBecause) this.publish(outcome.walletId, purchaseId, AutoTopUpEventKind.DISABLED, attempt, outcome.disabledBecause);
  }

  /** A top-up that cannot be made (turned off, no card left): it fails without counting as a decline. */
  private async giveUp(em: EntityManager, purchase: Purchase, reason: string): Promise<void> {
    if (await failPurchase(em, purchase.id, reason, null)) {
      this.publish(purchase.wallet.id, purchase.id, AutoTopUpEventKind.FAILED, purchase.attempt, reason);
    }
  }

  private publish(walletId: string, purchaseId: string, kind: AutoTopUpEventKind, attempt: number, reason: string | null): void {
    this.services.bus.publish(TOPICS.autoTopUp, walletId, { walletId, purchaseId, kind, attempt, reason });
  }

  /** Stops taking jobs; a job being worked on finishes first (or is taken over after its timeout). */
  async stop(): Promise<void> {
    await this.drain();
    await Promise.all(this.workerIds.map((id) => this.services.jobs.offWork({ id })));
    this.workerIds = [];
  }
}

async function raiseAlert(tx: EntityManager, organizationId: string, walletId: string, kind: AlertKind, message: string, dedupeKey: string | null): Promise<void> {
  await tx.execute(
    `insert into alerts (id, organization_id, wallet_id, kind, message, dedupe_key) values (?, ?, ?, ?, ?, ?) on conflict (dedupe_key) do nothing`,
    [newId('alert'), organizationId, walletId, kind, message, dedupeKey],
  );
}
