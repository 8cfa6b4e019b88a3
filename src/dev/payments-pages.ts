/** The pages of the local payments server: what Stripe.js and Stripe's hosted pages show a card holder. */
import type { TestCard } from './payments-objects';
import type { WebhookDelivery } from './payments-webhooks';

/** Cents as dollars, for people: 5000 → $50.00. */
export const dollars = (cents: number) => `$${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

const escape = (text: unknown) =>
  String(text ?? '').replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font:16px system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}form{display:inline}button{font:inherit;margin:.25rem;padding:.5rem 1rem}table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #ddd}.note{color:#666}</style>
</head><body><h1>${escape(title)}</h1>${body}<p class="note">Local payments server for development: test mode, nothing is charged, data in memory.</p></body></html>`;
}

export function setupPage(intent: Record<string, any>, testCards: Record<string, TestCard>): string {
  if (intent.status !== 'requires_payment_method') {
    return layout('Save a card', `<p>A card was saved with ${escape(intent.id)}: ${escape(intent.payment_method)}.</p>`);
  }
  const buttons = Object.entries(testCards).map(
    ([id, card]) =>
      `<form method="post"><input type="hidden" name="card" value="${escape(id)}"><button>${escape(card.brand)} •••• ${escape(card.last4)}</button></form> ${escape(id)}: ${escape(card.behaviour)}<br>`,
  );
  return layout('Save a card', `<p>Choose one of Stripe's test cards for ${escape(intent.id)}:</p><p>${buttons.join('\n')}</p>`);
}

export function authenticationPage(intent: Record<string, any>): string {
  const what = `${dollars(intent.amount)}${intent.description ? ` (${escape(intent.description)})` : ''}`;
  if (intent.status !== 'requires_action') {
    return layout('3-D Secure', `<p>The payment of ${what} does not wait for 3-D Secure: its status is ${escape(intent.status)}.</p>`);
  }
  return layout(
    '3-D Secure',
    `<p>Your bank asks you to confirm the payment of ${what}.</p>
<form method="post"><input type="hidden" name="outcome" value="complete"><button>Complete</button></form>
<form method="post"><input type="hidden" name="outcome" value="fail"><button>Fail</button></form>`,
  );
}

export function invoicePage(invoice: Record<string, any>): string {
  const address = invoice.customer_address ?? {};
  const to = [invoice.customer_name, address.line1, address.line2, [address.postal_code, address.city].filter(Boolean).join(' '), address.state, address.country]
    .filter(Boolean)
    .map(escape);
  const taxIds = (invoice.customer_tax_ids ?? []).map((taxId: { type: string; value: string }) => `${escape(taxId.type)} ${escape(taxId.value)}`);
  // A sent invoice waits for the customer to pay it here.
  const payable = invoice.status === 'open' && invoice.collection_method === 'send_invoice' && invoice.due_date;
  const lines = invoice.lines.map((line: { description: string; amount: number }) => `<tr><td>${escape(line.description)}</td><td>${dollars(line.amount)}</td></tr>`);
  return layout(
    `Invoice ${invoice.number ?? '(draft)'}`,
    `<p>Status: ${escape(invoice.status)}</p>${payable ? `<p>Due ${escape(new Date(invoice.due_date * 1000).toISOString().slice(0, 10))}: <form method="post"><button>Pay</button></form></p>` : ''}
<p>${to.join('<br>')}${taxIds.length ? `<br>${taxIds.join('<br>')}` : ''}</p>
<table><tr><th>Description</th><th>Amount</th></tr>${lines.join('')}<tr><th>Total</th><th>${dollars(invoice.total)}</th></tr></table>`,
  );
}

/** What a card holder's action did, and what tollgate answered to its webhook. */
export function resultPage(title: string, message: string, delivery: WebhookDelivery | null): string {
  return layout(title, `<p>${escape(message)}</p>${delivery ? `<p>${escape(deliveryLine(delivery))}</p>` : ''}`);
}

export function deliveryLine(delivery: WebhookDelivery): string {
  return `Webhook ${delivery.type}: ${delivery.status === null ? `not delivered (${delivery.error})` : `answered ${delivery.status}`}`;
}
