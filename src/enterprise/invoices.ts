import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type Stripe from 'stripe';
import { EnterpriseInvoice, type EnterpriseInvoiceItem, EnterpriseInvoiceStatus } from '../../entities';
import type { Deps } from '../deps';
import { type JobQueue, jobIdFor, QUEUES } from '../jobs/queue';
import { Period, periodEnd, periodStart } from '../limits/periods';
import { formatMoney } from '../money';
import { stripeCustomer } from '../payments/billing.service';
import type { Worker } from '../worker';

const NANO_PER_CENT = 10_000_000n;
const DAY_MS = 86_400_000;

/**
 * Stripe bills whole cents: a workspace's usage of the month is billed rounded up to the cent, so
 * that every month with usage is invoiced (no sub-cent usage goes unbilled for ever) and the
 * payment, credited to the wallet exactly, covers at least what was used.
 */
export function billedCents(usage: bigint): bigint {
  return (usage + NANO_PER_CENT - 1n) / NANO_PER_CENT;
}

/** The calendar month (UTC) before the one `at` is in: its first instant, the next month's, and its key `YYYY-MM-01`. */
export function monthBefore(at: Date): { start: Date; end: Date; month: string } {
  const end = periodStart(Period.MONTHLY, at);
  const start = periodStart(Period.MONTHLY, new Date(end.getTime() - 1));
  return { start, end, month: start.toISOString().slice(0, 10) };
}

interface InvoiceJob {
  organizationId: string;
  /** `YYYY-MM-01`. */
  month: string;
}

export type EnterpriseInvoiceServices = Pick<Deps, 'em' | 'now' | 'logger'> & { stripe: Stripe; jobs: JobQueue };

/**
 * The monthly invoices of enterprise accounts. The month-end check runs on start and then every
 * `checkMs`: for the month that has just ended (by the server's clock), every organization with a
 * credit line, usage in that month and no invoice sent for it gets one job, whose id is derived
 * from (organization, month), so that checks on any number of replicas queue it once. The job
 * records the invoice (unique per organization and month: a rerun never bills twice), then sends
 * it through Stripe with idempotency keys of (organization, month), so a job run again after a
 * crash or an outage meets the same Stripe invoice.
 */
export class EnterpriseInvoices implements Worker {
  readonly name = 'enterprise invoices';
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<unknown> = Promise.resolve();
  private workerId: string | null = null;

  constructor(
    private readonly services: EnterpriseInvoiceServices,
    private readonly intervals: { checkMs: number; pollingSeconds: number },
  ) {}

  async start(): Promise<void> {
    const { jobs, logger } = this.services;
    this.workerId = await jobs.work<InvoiceJob>(QUEUES.enterpriseInvoice, { batchSize: 1, pollingIntervalSeconds: this.intervals.pollingSeconds }, ([job]) =>
      this.issue(job.data),
    );
    const check = () => {
      this.checking = this.checking.then(() => this.checkMonthEnd()).catch((error) => logger.warn({ err: error }, 'enterprise invoices not queued'));
    };
    check();
    this.timer = setInterval(check, this.intervals.checkMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.checking;
    if (this.workerId) await this.services.jobs.offWork({ id: this.workerId });
  }

  /** Queues the invoices owed for the month that has just ended; how many were queued. */
  async checkMonthEnd(): Promise<number> {
    const { em, jobs } = this.services;
    const { start, end, month } = monthBefore(this.services.now());
    const owed = await em.fork().execute<Array<{ id: string }>>(
      `select o.id from organizations o
        where o.credit_limit > 0
          and not exists (select 1 from enterprise_invoices i where i.organization_id = o.id and i.month = ?::date and i.status <> 'DRAFT')
          and exists (select 1 from usage_hourly u join wallets w on w.id = u.wallet_id
                       where w.organization_id = o.id and u.hour >= ?::timestamptz and u.hour < ?::timestamptz and u.cost > 0)`,
      [month, start.toISOString(), end.toISOString()],
    );
    let queued = 0;
    for (const { id } of owed) {
      const sent = await jobs.send(QUEUES.enterpriseInvoice, { organizationId: id, month } satisfies InvoiceJob, { id: jobIdFor(`enterprise-invoice:${id}:${month}`) });
      if (sent) queued += 1;
    }
    if (queued > 0 && this.workerId) jobs.notifyWorker(this.workerId);
    return queued;
  }

  /** Records the month's invoice of one organization (once) and sends it through Stripe (until it is sent). */
  async issue({ organizationId, month }: InvoiceJob): Promise<void> {
    const em = this.services.em.fork();
    const invoice = await recordInvoice(em, organizationId, month);
    if (!invoice || invoice.status !== EnterpriseInvoiceStatus.DRAFT) return;
    await this.send(em, invoice);
  }

  private async send(em: EntityManager, invoice: EnterpriseInvoice): Promise<void> {
    const { stripe, now, logger } = this.services;
    const organizationId = invoice.organization.id;
    const customer = await stripeCustomer(em, stripe, organizationId);
    const key = (step: string) => ({ idempotencyKey: `tollgate-enterprise-invoice-${step}-${organizationId}-${invoice.month}` });
    const draft = await stripe.invoices.create(
      {
        customer,
        collection_method: 'send_invoice',
        days_until_due: invoice.netTermsDays,
        auto_advance: false,
        pending_invoice_items_behavior: 'exclude',
        description: `Usage of ${monthName(invoice.month)}`,
        metadata: { enterprise_invoice_id: invoice.id, organization_id: organizationId, month: invoice.month },
      },
      key('create'),
    );
    const names = new Map(
      (await em.execute<Array<{ id: string; name: string }>>('select id, name from workspaces where id in (?)', [invoice.items.map((item) => item.workspaceId)])).map((row) => [
        row.id,
        row.name,
      ]),
    );
    for (const item of invoice.items) {
      await stripe.invoiceItems.create(
        {
          customer,
          invoice: draft.id,
          currency: 'usd',
          amount: Number(BigInt(item.amount) / NANO_PER_CENT),
          description: `Usage of workspace ${names.get(item.workspaceId) ?? item.workspaceId} in ${monthName(invoice.month)}: $${formatMoney(BigInt(item.usage))}`,
          metadata: { workspace_id: item.workspaceId },
        },
        key(`item-${item.workspaceId}`),
      );
    }
    await stripe.invoices.finalizeInvoice(draft.id!, { auto_advance: false }, key('finalize'));
    const sent = await stripe.invoices.sendInvoice(draft.id!, {}, key('send'));
    // Due net terms after it is sent, by this server's clock (Stripe's due_date is the same day).
    const dueAt = new Date(now().getTime() + invoice.netTermsDays * DAY_MS);
    await em.execute(
      `update enterprise_invoices set status = 'OPEN', stripe_invoice_id = ?, hosted_url = ?, due_at = ?::timestamptz where id = ? and status = 'DRAFT'`,
      [sent.id, sent.hosted_invoice_url ?? null, dueAt.toISOString(), invoice.id],
    );
    logger.info({ organizationId, month: invoice.month, invoiceId: invoice.id, stripeInvoiceId: sent.id, amount: formatMoney(invoice.amount) }, 'enterprise invoice sent');
  }
}

/** "November 2026" of `2026-11-01`. */
function monthName(month: string): string {
  return new Date(`${month}T00:00:00Z`).toLocaleString('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' });
}

/**
 * The invoice of an organization's month: recorded the first time from the usage of each of its
 * workspaces in that month (the hourly rollup that `usage` reports from; a month is whole hours),
 * then read as recorded, so that every run sends Stripe the same items. Null when nothing was used.
 */
async function recordInvoice(em: EntityManager, organizationId: string, month: string): Promise<EnterpriseInvoice | null> {
  const start = new Date(`${month}T00:00:00Z`);
  const end = periodEnd(Period.MONTHLY, start);
  const used = await em.execute<Array<{ workspace_id: string; wallet_id: string; usage: string }>>(
    `select w.workspace_id, w.id as wallet_id, sum(u.cost)::text as usage
       from usage_hourly u join wallets w on w.id = u.wallet_id
      where w.organization_id = ? and u.hour >= ?::timestamptz and u.hour < ?::timestamptz
      group by w.workspace_id, w.id having sum(u.cost) > 0
      order by w.workspace_id`,
    [organizationId, start.toISOString(), end.toISOString()],
  );
  if (used.length > 0) {
    const items: EnterpriseInvoiceItem[] = used.map((row) => ({
      workspaceId: row.workspace_id,
      walletId: row.wallet_id,
      usage: row.usage,
      amount: String(billedCents(BigInt(row.usage)) * NANO_PER_CENT),
    }));
    const sum = (field: 'usage' | 'amount') => items.reduce((total, item) => total + BigInt(item[field]), 0n);
    await em.execute(
      `insert into enterprise_invoices (id, organization_id, month, amount, usage, items, net_terms_days)
       select ?, id, ?::date, ?::bigint, ?::bigint, ?::jsonb, net_terms_days from organizations where id = ?
       on conflict (organization_id, month) do nothing`,
      [randomUUID(), month, String(sum('amount')), String(sum('usage')), JSON.stringify(items), organizationId],
    );
  }
  return em.findOne(EnterpriseInvoice, { organization: organizationId, month }, { refresh: true });
}
