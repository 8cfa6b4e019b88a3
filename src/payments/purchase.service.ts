import type { Deps } from '../deps';
import type { EntityManager } from '@mikro-orm/postgresql';
import Stripe from 'stripe';
import { Purchase, PurchaseKind, PurchaseStatus, TransactionType, Wallet } from '../../entities';
import type { MemberActor } from '../actor';
import { inTransaction } from '../db/transaction';
import { DomainError, UserErrorCode } from '../errors';
import { claimIdempotencyKey, recordIdempotentResponse, validateIdempotencyKey } from '../idempotency';
import { Guard, type LedgerEntry, postEntries, publishPosted } from '../ledger/ledger';
import { formatMoney } from '../money';
import { AutoTopUpEventKind, TOPICS } from '../realtime/pubsub';
import { requireText } from '../validation';
import { requireBillingProfile, stripeCustomer } from './billing.service';
import { defaultCardOf } from './payment-methods.service';
import { isPaymentRefusal, isStripeOutage, requireStripe } from './stripe';
import { bonusFor } from './bonus';

const NANO_PER_CENT = 10_000_000n;
const NANO_PER_USD = 1_000_000_000n;
export const MINIMUM_PURCHASE = 5n * NANO_PER_USD;

/** What a card can be charged: at least the minimum, in whole cents. */
export function requirePurchaseAmount(amount: bigint, field = 'amount'): bigint {
  if (amount % NANO_PER_CENT !== 0n) throw new DomainError(UserErrorCode.INVALID, `The ${field} must be whole cents`, ['input', field]);
  if (amount < MINIMUM_PURCHASE) {
    throw new DomainError(UserErrorCode.INVALID, `The minimum purchase is $${formatMoney(MINIMUM_PURCHASE)}`, ['input', field]);
  }
  return amount;
}

export interface PurchaseCreateInput {
  workspaceId: string;
  amount: bigint;
  paymentMethodId?: string | null;
  idempotencyKey: string;
}

export interface PurchaseResult {
  purchase: Purchase;
  /** For the dashboard to complete 3-D Secure, when Stripe asks for it. */
  clientSecret: string | null;
}

/** What payments use; `autoTopUps` starts a top-up for a wallet that a refund leaves below its threshold. */
export type PaymentServices = Pick<Deps, 'em' | 'bus' | 'stripe' | 'bonusTiers'> & Partial<Pick<Deps, 'autoTopUps'>>;

/**
 * Buys credits for a workspace's wallet with a card: the purchase is recorded (PENDING) under
 * the idempotency key, then charged through a PaymentIntent whose own Stripe idempotency key is
 * the purchase's id, so a retry after a crash or a Stripe outage charges the same intent. Credits
 * come when Stripe reports success, here or by webhook, once.
 */
export async function createPurchase(services: PaymentServices, { organizationId }: MemberActor, input: PurchaseCreateInput): Promise<PurchaseResult> {
  const { em } = services;
  const stripe = requireStripe(services.stripe);
  validateIdempotencyKey(input.idempotencyKey);
  requirePurchaseAmount(input.amount);
  const namedCard = input.paymentMethodId == null ? null : requireText(input.paymentMethodId, 'paymentMethodId', 255);
  const defaultCard = namedCard === null ? await defaultCardOf(em, organizationId) : null;
  const wallet = await em.findOne(Wallet, { workspace: input.workspaceId, organization: organizationId });
  if (!wallet) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such workspace', ['input', 'workspaceId']);
  await requireBillingProfile(em, organizationId, 'A purchase needs a billing name and address: set them with billingProfileUpdate first');

  const purchase = await inTransaction(em, async (tx) => {
    // What the client sent, as sent: the card it named or none, never the default card that none
    // stands for, which may change before a retry.
    const request = { workspaceId: input.workspaceId, amount: String(input.amount), paymentMethodId: input.paymentMethodId ?? null };
    const claim = await claimIdempotencyKey<{ purchaseId: string }>(tx, organizationId, input.idempotencyKey, 'purchaseCreate', request);
    if (claim.kind === 'replay') return tx.findOneOrFail(Purchase, claim.response.purchaseId);
    const paymentMethodId = namedCard ?? defaultCard;
    if (paymentMethodId === null) {
      throw new DomainError(UserErrorCode.NO_PAYMENT_METHOD, 'No saved card: add one first, or name the card to charge', ['input', 'paymentMethodId']);
    }
    const created = tx.create(Purchase, {
      organization: organizationId,
      wallet: wallet.id,
      kind: PurchaseKind.PURCHASE,
      amount: input.amount,
      bonus: bonusFor(input.amount, services.bonusTiers),
      paymentMethodId,
    });
    await tx.flush();
    await recordIdempotentResponse(tx, organizationId, input.idempotencyKey, { purchaseId: created.id });
    return created;
  });
  try {
    return await chargeOrResume(services, stripe, purchase);
  } catch (error) {
    // The purchase stays PENDING under its key, and its PaymentIntent's own key is the purchase:
    // the same request sent again charges it, once.
    if (isStripeOutage(error)) {
      throw new DomainError(
        UserErrorCode.PAYMENT_PROVIDER_ERROR,
        'Stripe could not be reached: the purchase waits (PENDING). Send the same request again, with the same idempotency key, to complete it; it is charged once',
      );
    }
    throw error;
  }
}

/** A new purchase is charged; a retry of one meets it where the first attempt left it. */
async function chargeOrResume(services: PaymentServices, stripe: Stripe, purchase: Purchase): Promise<PurchaseResult> {
  if (purchase.status === PurchaseStatus.REQUIRES_ACTION && purchase.paymentIntentId) {
    // A retry while the card holder has still to authenticate: the dashboard needs the secret again.
    const intent = await stripe.paymentIntents.retrieve(purchase.paymentIntentId);
    return { purchase, clientSecret: intent.client_secret };
  }
  if (purchase.status !== PurchaseStatus.PENDING) return { purchase, clientSecret: null };
  const result = await charge(services, stripe, purchase);
  if (result.purchase.status !== PurchaseStatus.SUCCEEDED) return result;
  // Stripe failing here leaves the invoice to the payment_intent.succeeded webhook, which
  // Stripe delivers again until it is done; the purchase itself is complete.
  const invoiced = await issueInvoice(services, purchase.id).then(
    () => true,
    () => false,
  );
  return invoiced ? { ...result, purchase: await reload(services.em, purchase.id) } : result;
}

/**
 * Charges the purchase's card with a PaymentIntent confirmed at once; `offSession` when the card
 * holder is not there to authenticate (an auto top-up). The metadata ties the intent (and its
 * webhooks) to the purchase and its attempt.
 */
export async function createIntent(services: PaymentServices, stripe: Stripe, purchase: Purchase, idempotencyKey: string, offSession = false): Promise<Stripe.PaymentIntent> {
  const organizationId = purchase.organization.id;
  const customer = await stripeCustomer(services.em, stripe, organizationId);
  return stripe.paymentIntents.create(
    {
      amount: Number(purchase.amount / NANO_PER_CENT),
      currency: 'usd',
      customer,
      payment_method: purchase.paymentMethodId ?? undefined,
      confirm: true,
      ...(offSession && { off_session: true }),
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      description: `tollgate ${purchase.kind === PurchaseKind.AUTO_TOP_UP ? 'auto top-up' : 'credits'}: $${formatMoney(purchase.amount)}`,
      metadata: { purchase_id: purchase.id, organization_id: organizationId, wallet_id: purchase.wallet.id, attempt: String(purchase.attempt) },
    },
    { idempotencyKey },
  );
}

async function charge(services: PaymentServices, stripe: Stripe, purchase: Purchase): Promise<PurchaseResult> {
  let intent: Stripe.PaymentIntent;
  try {
    intent = await createIntent(services, stripe, purchase, `tollgate-purchase-${purchase.id}`);
  } catch (error) {
    // A retry that arrives while the first attempt is still talking to Stripe: the first one settles it.
    if (error instanceof Stripe.errors.StripeError && error.rawType === 'idempotency_error') return { purchase: await reload(services.em, purchase.id), clientSecret: null };
    // A declined card, or a card Stripe cannot use: the purchase fails with Stripe's reason.
    if (isPaymentRefusal(error)) {
      await failPurchase(services.em, purchase.id, error.message, error.payment_intent?.id ?? null);
      return { purchase: await reload(services.em, purchase.id), clientSecret: null };
    }
    throw error;
  }
  return (await settleIntent(services, intent))!;
}

/**
 * Brings the purchase of a PaymentIntent to the intent's state; called with the answer of the
 * confirmation and with every webhook about the intent, in any order and any number of times.
 */
export async function settleIntent(services: PaymentServices, intent: Stripe.PaymentIntent): Promise<PurchaseResult | null> {
  const purchaseId = intent.metadata?.purchase_id;
  const found = purchaseId ? await services.em.findOne(Purchase, { id: purchaseId }) : null;
  if (!found) return null;
  if (found.kind === PurchaseKind.AUTO_TOP_UP) {
    // Each attempt has its own intent; the job that made it settles its failure (and counts it).
    // Only a success matters here: the money was taken, whichever attempt took it.
    if (intent.status !== 'succeeded') return { purchase: found, clientSecret: null };
    await services.em.nativeUpdate(Purchase, { id: found.id, status: { $ne: PurchaseStatus.SUCCEEDED } }, { paymentIntentId: intent.id });
  } else {
    await services.em.nativeUpdate(Purchase, { id: found.id, paymentIntentId: null }, { paymentIntentId: intent.id });
  }
  let clientSecret: string | null = null;
  if (intent.status === 'succeeded') {
    await grantCredits(services, found.id);
  } else if (intent.status === 'requires_action') {
    await services.em.nativeUpdate(Purchase, { id: found.id, status: PurchaseStatus.PENDING }, { status: PurchaseStatus.REQUIRES_ACTION });
    clientSecret = intent.client_secret;
  } else if (intent.status === 'requires_payment_method' || intent.status === 'canceled') {
    await failPurchase(services.em, found.id, intent.last_payment_error?.message ?? `The payment was ${intent.status === 'canceled' ? 'canceled' : 'declined'}`, intent.id);
  }
  return { purchase: await reload(services.em, found.id), clientSecret };
}

/** The one move to SUCCEEDED grants the credits, in the same transaction: a PURCHASE row and a BONUS row. */
async function grantCredits(services: PaymentServices, purchaseId: string): Promise<void> {
  const posted = await inTransaction(services.em, async (tx) => {
    const [won] = await tx.execute<Array<{ wallet_id: string; organization_id: string; kind: PurchaseKind; amount: string; bonus: string; attempt: number }>>(
      `update purchases set status = 'SUCCEEDED', failure_reason = null, completed_at = now()
        where id = ? and status <> 'SUCCEEDED'
        returning wallet_id, organization_id, kind, amount::text, bonus::text, attempt`,
      [purchaseId],
    );
    if (!won) return null;
    // A payment went through: the count of auto top-up failures in a row starts again.
    if (won.kind === PurchaseKind.AUTO_TOP_UP) await tx.execute('update wallets set auto_top_up_failures = 0 where id = ?', [won.wallet_id]);
    const amount = BigInt(won.amount);
    const bonus = BigInt(won.bonus);
    const entries: LedgerEntry[] = [
      {
        walletId: won.wallet_id,
        type: won.kind === PurchaseKind.AUTO_TOP_UP ? TransactionType.AUTO_TOP_UP : TransactionType.PURCHASE,
        amount,
        description: won.kind === PurchaseKind.AUTO_TOP_UP ? 'Auto top-up' : 'Credit purchase',
        actor: 'stripe',
      },
    ];
    if (bonus > 0n) {
      entries.push({ walletId: won.wallet_id, type: TransactionType.BONUS, amount: bonus, description: `Bonus on a $${formatMoney(amount)} purchase`, actor: 'stripe' });
    }
    return { won, posting: await postEntries(tx, entries) };
  });
  if (!posted) return;
  publishPosted(services, posted.posting);
  if (posted.won.kind === PurchaseKind.AUTO_TOP_UP) {
    const { wallet_id: walletId, attempt } = posted.won;
    services.bus.publish(TOPICS.autoTopUp, walletId, { walletId, purchaseId, kind: AutoTopUpEventKind.SUCCEEDED, attempt, reason: null });
  }
}

/** Ends a purchase that has not succeeded as FAILED with the reason; whether it did. */
export async function failPurchase(em: EntityManager, purchaseId: string, reason: string, paymentIntentId: string | null): Promise<boolean> {
  const ended = await em.execute(
    `update purchases set status = 'FAILED', failure_reason = ?, completed_at = now(), payment_intent_id = coalesce(payment_intent_id, ?)
      where id = ? and status <> 'SUCCEEDED' returning id`,
    [reason, paymentIntentId, purchaseId],
  );
  return ended.length > 0;
}

/**
 * The purchase (and its wallet) as committed. The writes before went around the identity map (raw
 * SQL, transactions of their own), so it is emptied first: it would answer what it read before
 * them (MikroORM's refresh is no way out: it leaves bigint columns as strings).
 */
function reload(em: EntityManager, purchaseId: string): Promise<Purchase> {
  em.clear();
  return em.findOneOrFail(Purchase, purchaseId, { populate: ['wallet'] });
}

/**
 * Takes back what Stripe refunded of a purchase: the new part of its charge's amount_refunded
 * (which only grows), and the same share of the bonus that came with it, as one REFUND row. The
 * balance may go below zero; the wallet then spends nothing until it is topped up. A refund
 * proves the payment succeeded, so a purchase not yet credited is credited first, also when the
 * refund is the first news of its payment (Stripe's events come in any order): its PaymentIntent
 * names the purchase.
 */
export async function recordRefund(services: PaymentServices, charge: Stripe.Charge): Promise<void> {
  const intentId = typeof charge.payment_intent === 'string' ? charge.payment_intent : charge.payment_intent?.id;
  if (!intentId) return;
  let purchase = await services.em.findOne(Purchase, { paymentIntentId: intentId });
  if (!purchase) {
    const settled = await settleIntent(services, await requireStripe(services.stripe).paymentIntents.retrieve(intentId));
    // Not ours, or a payment the purchase was not credited for: nothing to take back.
    if (settled?.purchase.paymentIntentId !== intentId) return;
    purchase = settled.purchase;
  }
  if (purchase.status !== PurchaseStatus.SUCCEEDED) await grantCredits(services, purchase.id);
  const posted = await inTransaction(services.em, async (tx) => {
    const [row] = await tx.execute<Array<{ wallet_id: string; amount: string; bonus: string; refunded: string }>>(
      'select wallet_id, amount::text, bonus::text, refunded::text from purchases where id = ? for update',
      [purchase.id],
    );
    const amount = BigInt(row.amount);
    const bonus = BigInt(row.bonus);
    const before = BigInt(row.refunded);
    const reported = BigInt(charge.amount_refunded) * NANO_PER_CENT;
    const now = reported < amount ? reported : amount;
    if (now <= before) return null;
    // The bonus share is taken on the running total, so partial refunds add up to the whole bonus exactly.
    const bonusBack = (bonus * now) / amount - (bonus * before) / amount;
    await tx.execute('update purchases set refunded = ? where id = ?', [String(now), purchase.id]);
    const description = `Refund of $${formatMoney(now - before)}${bonusBack > 0n ? ` and $${formatMoney(bonusBack)} of its bonus` : ''}`;
    return postEntries(tx, [
      { walletId: row.wallet_id, type: TransactionType.REFUND, amount: -(now - before + bonusBack), description, actor: 'stripe', guard: Guard.OVERDRAW },
    ]);
  });
  if (posted) publishPosted(services, posted);
}

/**
 * The invoice of a successful purchase, in Stripe: one line for the amount paid (the bonus named
 * in it), on the customer with its billing profile and tax IDs, finalized and marked paid out of
 * band since the PaymentIntent paid it. Each step carries an idempotency key of the purchase, so
 * a repeated call (a redelivered webhook) finishes the same invoice instead of making another.
 */
export async function issueInvoice(services: PaymentServices, purchaseId: string): Promise<void> {
  const stripe = requireStripe(services.stripe);
  const purchase = await services.em.findOneOrFail(Purchase, purchaseId);
  if (purchase.status !== PurchaseStatus.SUCCEEDED || purchase.invoicePdf) return;
  const customer = await stripeCustomer(services.em, stripe, purchase.organization.id);
  const key = (step: string) => ({ idempotencyKey: `tollgate-invoice-${step}-${purchase.id}` });
  const draft = await stripe.invoices.create(
    {
      customer,
      auto_advance: false,
      collection_method: 'send_invoice',
      days_until_due: 0,
      pending_invoice_items_behavior: 'exclude',
      metadata: { purchase_id: purchase.id },
    },
    key('create'),
  );
  const bonus = purchase.bonus > 0n ? ` and $${formatMoney(purchase.bonus)} bonus credits` : '';
  await stripe.invoiceItems.create(
    {
      customer,
      invoice: draft.id,
      currency: 'usd',
      amount: Number(purchase.amount / NANO_PER_CENT),
      description: `${purchase.kind === PurchaseKind.AUTO_TOP_UP ? 'Auto top-up' : 'Credit purchase'}: $${formatMoney(purchase.amount)} of credits${bonus}`,
    },
    key('line'),
  );
  await stripe.invoices.finalizeInvoice(draft.id!, {}, key('finalize'));
  const paid = await stripe.invoices.pay(draft.id!, { paid_out_of_band: true }, key('pay'));
  await services.em.nativeUpdate(Purchase, { id: purchase.id }, { invoiceId: paid.id, invoiceNumber: paid.number, invoicePdf: paid.invoice_pdf });
}
