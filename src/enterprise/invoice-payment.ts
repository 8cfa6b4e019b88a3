import type Stripe from 'stripe';
import { type EnterpriseInvoiceItem, TransactionType } from '../../entities';
import { inTransaction } from '../db/transaction';
import { postEntries, publishPosted } from '../ledger/ledger';
import type { PaymentServices } from '../payments/purchase.service';

/** The enterprise invoice a Stripe invoice is, by the id tollgate put in its metadata (or its own id); null when it is not one. */
function invoiceKey(invoice: Stripe.Invoice): { id: string | null; stripeInvoiceId: string } {
  return { id: invoice.metadata?.enterprise_invoice_id ?? null, stripeInvoiceId: invoice.id! };
}

/**
 * `invoice.paid`: the payment of an enterprise invoice credits each wallet what its workspace's
 * usage was billed, as INVOICE_PAYMENT rows, and marks the invoice PAID, which lifts its past due.
 * Once: the invoice's row is locked and a PAID one is left alone, so a redelivered event credits
 * nothing more. Invoices that are not enterprise invoices (a purchase's, paid out of band) are
 * not tollgate's business here.
 */
export async function recordInvoicePayment(services: PaymentServices, invoice: Stripe.Invoice, now: Date): Promise<void> {
  const { id, stripeInvoiceId } = invoiceKey(invoice);
  const posted = await inTransaction(services.em, async (tx) => {
    const [row] = await tx.execute<Array<{ id: string; month: string; status: string; items: EnterpriseInvoiceItem[] }>>(
      `select id, to_char(month, 'YYYY-MM') as month, status, items from enterprise_invoices
        where id = ? or stripe_invoice_id = ? order by id limit 1 for update`,
      [id ?? '', stripeInvoiceId],
    );
    if (!row || row.status === 'PAID') return null;
    // Sent, but its row not told so (the job stopped in between): the event says what it is.
    await tx.execute(
      `update enterprise_invoices set status = 'PAID', paid_at = ?::timestamptz, stripe_invoice_id = ?, due_at = coalesce(due_at, ?::timestamptz),
              hosted_url = coalesce(hosted_url, ?) where id = ?`,
      [now.toISOString(), stripeInvoiceId, now.toISOString(), invoice.hosted_invoice_url ?? null, row.id],
    );
    return postEntries(
      tx,
      row.items.map((item) => ({
        walletId: item.walletId,
        type: TransactionType.INVOICE_PAYMENT,
        amount: BigInt(item.amount),
        description: `Invoice of ${row.month} paid`,
        actor: 'stripe',
      })),
      now,
    );
  });
  if (posted) publishPosted(services, posted);
}

/** `invoice.voided`: the invoice will not be paid, and blocks nothing any more. */
export async function recordInvoiceVoided(services: PaymentServices, invoice: Stripe.Invoice): Promise<void> {
  const { id, stripeInvoiceId } = invoiceKey(invoice);
  await services.em.execute(
    `update enterprise_invoices set status = 'VOID', stripe_invoice_id = ?, due_at = coalesce(due_at, created_at)
      where (id = ? or stripe_invoice_id = ?) and status in ('DRAFT', 'OPEN')`,
    [stripeInvoiceId, id ?? '', stripeInvoiceId],
  );
}
