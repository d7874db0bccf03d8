import { log } from '@temporalio/activity';
import { withTransaction, type Db, type Queryable } from '../src/platform/db';
import { asAccount } from '../src/platform/stripe-client';
import { fromStripeTime as at, idOf, type StripeEvent } from '../src/platform/stripe-event';
import {
  entriesUnderKeys,
  linesOf,
  lockReference,
  netsOf,
  post,
  postedAmount,
  postedKeys,
  postedUnderKeys,
  recordDisputeCharge,
  reversed,
  sourceOf,
  transfer,
  type EntrySource,
  type LedgerLine,
} from '../src/store/ledger';
import { creditedByNotes, type CreditedByNotes } from '../src/store/credit-notes';
import { loadEventPayload } from '../src/store/events';
import { paymentOfCharge, type Payment } from '../src/store/payments';
import { paysAnInvoice, withKeptPayments } from '../src/store/invoice-payments';
import { chargePlaced, listChargeNotBooked } from '../src/store/charges-not-booked';
import { recordRefundFailure, refundFailuresOf } from '../src/store/refund-failures';
import { readInvoice, type InvoiceFacts } from '../src/platform/invoice';
import { invalidEvent } from '../workflows/contracts';
import type { ActivityDependencies } from './dependencies';

/**
 * The accounting of what happens to a charge after it was paid: refunds and disputes. Postings
 * about one charge (or dispute) take its lock, read what is booked, and post the difference, so
 * events in any order, shape or number end in the same books.
 */

/** `part` of `whole`'s `tax`, rounded half up (nothing when there is no whole or no tax). */
function shareOf(part: number, tax: number, whole: number): number {
  if (part <= 0 || tax <= 0 || whole <= 0) return 0;
  return Number((BigInt(part) * BigInt(tax) * 2n + BigInt(whole)) / (2n * BigInt(whole)));
}

/** What a charge's refunds take their tax share from: the invoice it paid, and what credit notes took of it. */
interface RefundTaxBasis {
  invoice: Pick<InvoiceFacts, 'tax' | 'total'>;
  notes: CreditedByNotes;
}

const noNotes: CreditedByNotes = { amount: 0, tax: 0, refunded: 0, refundedTax: 0 };

/**
 * The basis of a charge's refund tax; null for a charge outside a known invoice (its refunds take
 * no tax). Which charge a credit note's refund came from is only known when one charge paid the
 * invoice: the charges of an invoice paid in parts take the invoice's share, notes or not.
 */
async function refundTaxBasis(tx: Queryable, payment: Payment | undefined): Promise<RefundTaxBasis | null> {
  if (!payment) return null;
  const invoice = readInvoice(await withKeptPayments(tx, payment.invoice));
  const notes = invoice.partsPaid > 1 ? noNotes : await creditedByNotes(tx, invoice.id, invoice.currency);
  return { invoice, notes };
}

/**
 * The tax share of the first `refunded` minor units refunded of a charge. Refunds count first as
 * the credit notes' refunds, which take the notes' own tax (the lines a note credits may be taxed
 * at other rates than the invoice on average); the rest takes the tax of what no note credited,
 * in proportion. Without notes that is the invoice's tax in proportion. Taken on the cumulative
 * amount, so the shares of several refunds add up without drift, in any order.
 */
function refundTax(refunded: number, basis: RefundTaxBasis | null): number {
  if (!basis) return 0;
  const { invoice, notes } = basis;
  const byNotes = Math.min(refunded, notes.refunded);
  const left = { amount: invoice.total - notes.amount, tax: Math.max(0, invoice.tax - notes.tax) };
  return shareOf(byNotes, notes.refundedTax, notes.refunded) + Math.min(left.tax, shareOf(refunded - byNotes, left.tax, left.amount));
}

interface RefundState {
  /** Refunded so far (credited to the Stripe balance). */
  refunded: number;
  /** Tax payable reduced so far by those refunds. */
  tax: number;
}

/** What the charge's refund entries add up to (its sale, when it is one, is booked about it too). */
async function refundState(tx: Queryable, chargeId: string, currency: string): Promise<RefundState> {
  const net = await netsOf(tx, chargeId, currency, ['refund']);
  return { refunded: -net('stripe_balance'), tax: net('tax_payable') };
}

/**
 * The tax share one refund of `amount` moves, from the change in the cumulative share it makes.
 * Refunds booked before their invoice was known have no share yet, and a credit note issued or
 * voided since moves the share of those booked, so that change can be more than the refund or
 * less than nothing: kept within the refund, the rest is settled on the whole right after.
 */
const shareOfOne = (amount: number, change: number) => Math.max(0, Math.min(amount, change));

function refundLines(currency: string, amount: number, tax: number): LedgerLine[] {
  return [
    { account: 'refunds', currency, debit: amount - tax },
    { account: 'tax_payable', currency, debit: tax },
    { account: 'stripe_balance', currency, credit: amount },
  ];
}

/**
 * A charge known to pay an invoice, settled with it: a sale booked for it before that was known
 * (its payment intent attached to the invoice after it succeeded) is taken back, as the
 * invoice's payment books its cash; and the tax share of its refunds is brought to what the
 * invoice and its credit notes say: when the invoice becomes known (refunds booked before it had
 * none), when a note is issued or voided, and after a refund's booking or failure. Each settling
 * is a new entry, numbered.
 */
export async function settleChargeOfInvoice(tx: Queryable, chargeId: string, payment: Payment, source: EntrySource): Promise<void> {
  await lockReference(tx, chargeId);
  await post(tx, {
    sourceKey: `charge:${chargeId}:sale-taken-back`,
    kind: 'charge_sale_taken_back',
    reference: chargeId,
    description: `Charge ${chargeId} pays invoice ${payment.invoice_number ?? payment.invoice_id}: not a sale of its own`,
    occurredAt: payment.paid_at,
    ...source,
    lines: reversed(await linesOf(tx, `charge:${chargeId}:sale`)),
  });
  const state = await refundState(tx, chargeId, payment.currency);
  if (state.refunded === 0 && state.tax === 0) return;
  await postTaxSettling(tx, chargeId, state, await refundTaxBasis(tx, payment), payment.currency, source);
}

/** The settling itself, from the charge's refund state and tax basis as the caller holds them (under the charge's lock). */
async function postTaxSettling(tx: Queryable, chargeId: string, state: RefundState, basis: RefundTaxBasis | null, currency: string, source: EntrySource): Promise<void> {
  const change = refundTax(state.refunded, basis) - state.tax;
  if (change === 0) return;
  const settled = await entriesUnderKeys(tx, chargeId, `charge:${chargeId}:refund-tax%`);
  await post(tx, {
    sourceKey: `charge:${chargeId}:refund-tax-${settled + 1}`,
    kind: 'refund',
    reference: chargeId,
    ...source,
    description: `Tax share of the refunds of charge ${chargeId}`,
    occurredAt: new Date(),
    lines: transfer('tax_payable', 'refunds', currency, change),
  });
}

/**
 * Whether Stripe says this charge pays no invoice. Payloads of API versions before 2025-03-31
 * carry `invoice` (null outside invoices); newer ones do not, and then an invoice payment Stripe
 * announced for the charge's payment intent says it pays one, else Stripe is asked for them.
 * Without a key and without such an announcement the answer is unknown.
 */
async function paysNoInvoice({ db, stripe }: Pick<ActivityDependencies, 'db' | 'stripe'>, charge: Record<string, any>, connectedAccount: string | null): Promise<boolean | 'unknown'> {
  if ('invoice' in charge) return charge.invoice === null;
  const paymentIntentId = idOf(charge.payment_intent);
  if (!paymentIntentId) return true;
  if (await paysAnInvoice(db, paymentIntentId)) return false;
  if (!stripe) return 'unknown';
  const { data } = await stripe.invoicePayments.list(
    { payment: { type: 'payment_intent', payment_intent: paymentIntentId }, limit: 1 },
    asAccount(connectedAccount),
  );
  return data.length === 0;
}

/**
 * A captured charge that pays no invoice is a sale of its own: its amount enters the Stripe
 * balance as revenue (without tax: a charge carries none). A charge that pays an invoice is
 * booked through the invoice's payment instead, so a charge is never booked twice. Its refunds
 * and disputes are booked either way.
 */
async function postChargeSale(deps: Pick<ActivityDependencies, 'db' | 'stripe'>, event: StripeEvent): Promise<void> {
  const charge = chargeOf(event);
  if (charge.status !== 'succeeded' || charge.captured !== true) return;
  const standalone = await paysNoInvoice(deps, charge, event.account ?? null);
  if (standalone === 'unknown') {
    const paymentIntentId = idOf(charge.payment_intent)!;
    await withTransaction(deps.db, async (tx) => {
      // Under the payment intent's lock, which an invoice payment naming it takes as it is kept:
      // one arriving at the same moment is seen here, or sees this row and takes it off.
      await lockReference(tx, paymentIntentId);
      if (await paysAnInvoice(tx, paymentIntentId)) return;
      log.warn('charge not booked: its payload does not say whether it pays an invoice, and without STRIPE_SECRET_KEY Stripe cannot be asked', { chargeId: charge.id });
      await listChargeNotBooked(tx, {
        chargeId: charge.id,
        paymentIntentId,
        account: event.account ?? null,
        currency: charge.currency,
        amount: charge.amount_captured ?? charge.amount,
        since: at(charge.created ?? event.created),
        sourceEventId: event.id,
      });
    });
    return;
  }
  if (!standalone) return chargePlaced(deps.db, charge.id);
  const sale = {
    chargeId: charge.id,
    paymentIntentId: idOf(charge.payment_intent),
    currency: charge.currency,
    amount: charge.amount_captured ?? charge.amount,
    capturedAt: at(charge.created ?? event.created),
  };
  await withTransaction(deps.db, (tx) => postSale(tx, sale, sourceOf(event)));
}

/** A captured charge Stripe says pays no invoice. */
export interface Sale {
  chargeId: string;
  paymentIntentId: string | null;
  currency: string;
  amount: number;
  capturedAt: Date;
}

/**
 * A sale's amount enters the Stripe balance as revenue, once, unless what is recorded says the
 * charge pays an invoice after all: a payment intent attached to an invoice after Stripe was
 * asked (`attach_payment`), whose payment books the cash. Under the payment intent's and the
 * charge's locks (in a transaction), which an invoice payment's keeping and an invoice's payment
 * take before they look for a sale to take back: whichever comes second sees the other.
 */
export async function postSale(tx: Queryable, sale: Sale, source: EntrySource): Promise<'sale' | 'pays_an_invoice'> {
  if (sale.paymentIntentId) await lockReference(tx, sale.paymentIntentId);
  await lockReference(tx, sale.chargeId);
  await chargePlaced(tx, sale.chargeId);
  const paysAfterAll = (await paymentOfCharge(tx, sale.chargeId, sale.paymentIntentId)) || (sale.paymentIntentId && (await paysAnInvoice(tx, sale.paymentIntentId)));
  if (paysAfterAll) return 'pays_an_invoice';
  await post(tx, {
    sourceKey: `charge:${sale.chargeId}:sale`,
    kind: 'charge_sale',
    reference: sale.chargeId,
    description: `Charge ${sale.chargeId} outside invoices`,
    occurredAt: sale.capturedAt,
    ...source,
    lines: transfer('stripe_balance', 'revenue', sale.currency, sale.amount),
  });
  return 'sale';
}

function chargeOf(event: StripeEvent): Record<string, any> & { id: string; currency: string } {
  const charge = event.data.object as Record<string, any>;
  if (charge.object !== 'charge' || typeof charge.id !== 'string' || typeof charge.currency !== 'string') {
    throw invalidEvent(event, 'data.object is not a charge');
  }
  return charge as Record<string, any> & { id: string; currency: string };
}

/**
 * Refunds of a charge. Payloads with the refund list (its ten newest) post each refund under its
 * id; newer API versions leave the list out, and then the growth of `amount_refunded` over what
 * was posted is what is new. Both shapes of one refund can arrive, in any order and at once, so a listed refund
 * is posted only while the total stays within what the charge says is refunded: a refund first
 * posted from the growth is not posted again under its id. A refund known to have failed is
 * never booked, however late an event of an earlier moment arrives.
 */
async function postChargeRefunds(db: Db, event: StripeEvent): Promise<void> {
  const charge = chargeOf(event);
  const paymentIntentId = idOf(charge.payment_intent);
  await withTransaction(db, async (tx) => {
    // The payment intent's lock first, as an invoice payment announced at the same time takes it
    // before it looks for this charge: one of the two sees the other.
    if (paymentIntentId) await lockReference(tx, paymentIntentId);
    await lockReference(tx, charge.id);
    const payment = await paymentOfCharge(tx, charge.id, paymentIntentId);
    const basis = await refundTaxBasis(tx, payment);
    const state = await refundState(tx, charge.id, charge.currency);
    await postNewRefunds(tx, event, charge, state, async (sourceKey, description, amount, occurredAt) => {
      const tax = shareOfOne(amount, refundTax(state.refunded + amount, basis) - state.tax);
      const result = await post(tx, {
        sourceKey,
        kind: 'refund',
        reference: charge.id,
        description,
        occurredAt: at(occurredAt),
        ...sourceOf(event),
        lines: refundLines(charge.currency, amount, tax),
      });
      if (result === 'posted') Object.assign(state, { refunded: state.refunded + amount, tax: state.tax + tax });
    });
    // What a refund's own share could not take (see shareOfOne) is settled on the whole.
    if (basis) await postTaxSettling(tx, charge.id, state, basis, charge.currency, sourceOf(event));
  });
}

/** Posts one refund when its key is new, adding it to the charge's refund state. */
type PostRefund = (sourceKey: string, description: string, amount: number, occurredAt: number) => Promise<void>;

/** The refunds a charge event shows that are not booked yet (beyond `state`), each through `postRefund`. */
async function postNewRefunds(tx: Queryable, event: StripeEvent, charge: ReturnType<typeof chargeOf>, state: RefundState, postRefund: PostRefund): Promise<void> {
  const listed: Record<string, any>[] | undefined = charge.refunds?.data;
  const failures = await refundFailuresOf(tx, charge.id);
  // A payload from before a failure still counts the failed refund in amount_refunded.
  const failedSince = failures.filter((f) => f.failedAt > at(event.created)).reduce((sum, f) => sum + f.amount, 0);
  const postGrowth = (amount: number) =>
    postRefund(`charge:${charge.id}:refunded-to:${charge.amount_refunded}`, `Refund of charge ${charge.id} (now ${charge.amount_refunded} refunded)`, amount, event.created);
  if (!Array.isArray(listed)) {
    await postGrowth(Math.max(0, charge.amount_refunded - failedSince - state.refunded));
    return;
  }
  const failed = new Set(failures.map((f) => f.refundId));
  const refunds = listed.filter((r) => r.status !== 'failed' && r.status !== 'canceled' && !failed.has(r.id));
  // Stripe embeds a charge's ten newest refunds: with more, the older ones (booked from earlier
  // events) are not in the list, and the charge's own total is what bounds the booking.
  const truncated = charge.refunds?.has_more === true;
  const refunded = truncated ? charge.amount_refunded - failedSince : refunds.reduce((sum, refund) => sum + refund.amount, 0);
  const already = await postedKeys(tx, refunds.map((refund) => `refund:${refund.id}`));
  for (const refund of refunds.sort((a, b) => (a.created ?? 0) - (b.created ?? 0))) {
    if (already.has(`refund:${refund.id}`) || state.refunded + refund.amount > refunded) continue;
    await postRefund(`refund:${refund.id}`, `Refund ${refund.id} of charge ${charge.id}`, refund.amount, refund.created ?? event.created);
  }
  // Older refunds not booked yet (their events missed or still to come) are booked from the
  // charge's total, as without a list; their own events then find the total reached.
  if (truncated && refunded > state.refunded) await postGrowth(refunded - state.refunded);
}

/**
 * A refund that failed (or was canceled) after it was booked returns its money to the Stripe
 * balance: booked under its id, its amount is taken back; booked from the growth of
 * `amount_refunded` (payloads without the refund list), what the growth booked and not yet gave
 * back. The tax share is recomputed on the cumulative amount that stays refunded rather than
 * copied from the refund's entry, whose share depended on what was booked before it (and on
 * whether the invoice was known then): the books end the same in any order.
 */
async function postRefundFailed(db: Db, event: StripeEvent): Promise<void> {
  const refund = event.data.object as Record<string, any>;
  const chargeId = idOf(refund.charge);
  if (refund.object !== 'refund' || typeof refund.id !== 'string' || !chargeId) throw invalidEvent(event, 'data.object is not a refund of a charge');
  if (refund.status !== 'failed' && refund.status !== 'canceled') return;
  await withTransaction(db, async (tx) => {
    await lockReference(tx, chargeId);
    // Remembered even when nothing is booked yet: a refund event of an earlier moment may follow.
    await recordRefundFailure(tx, { refundId: refund.id, chargeId, amount: Number(refund.amount) || 0, failedAt: at(event.created) });
    const booked = (await linesOf(tx, `refund:${refund.id}`)).find((line) => line.account === 'stripe_balance');
    const { sourceKey, currency, amount } = booked
      ? { sourceKey: `refund:${refund.id}:reversed`, currency: booked.currency, amount: booked.credit ?? 0 }
      : { sourceKey: `refund:${refund.id}:reversed-from-growth`, currency: String(refund.currency), amount: await refundedByGrowthNotGivenBack(tx, chargeId, Number(refund.amount) || 0) };
    if (amount <= 0) return;
    const payment = await paymentOfCharge(tx, chargeId, null);
    const state = await refundState(tx, chargeId, currency);
    const basis = await refundTaxBasis(tx, payment);
    const tax = shareOfOne(amount, state.tax - refundTax(state.refunded - amount, basis));
    const result = await post(tx, {
      sourceKey,
      kind: 'refund',
      reference: chargeId,
      description: `Refund ${refund.id} of charge ${chargeId} ${refund.status}`,
      occurredAt: at(event.created),
      ...sourceOf(event),
      lines: reversed(refundLines(currency, amount, tax)),
    });
    if (result === 'posted') Object.assign(state, { refunded: state.refunded - amount, tax: state.tax - tax });
    if (basis) await postTaxSettling(tx, chargeId, state, basis, currency, sourceOf(event));
  });
}

/** Up to `amount` of what the growth of `amount_refunded` booked and no failed refund gave back yet. */
async function refundedByGrowthNotGivenBack(tx: Queryable, chargeId: string, amount: number): Promise<number> {
  const fromGrowth = -(await postedUnderKeys(tx, chargeId, `charge:${chargeId}:refunded-to:%`, 'stripe_balance'));
  const givenBack = await postedUnderKeys(tx, chargeId, 'refund:%:reversed-from-growth', 'stripe_balance');
  return Math.min(amount, fromGrowth - givenBack);
}

function disputeOf(event: StripeEvent) {
  const dispute = event.data.object as Record<string, any>;
  if (dispute.object !== 'dispute' || typeof dispute.id !== 'string' || !Number.isSafeInteger(dispute.amount) || typeof dispute.currency !== 'string') {
    throw invalidEvent(event, 'data.object is not a dispute');
  }
  return dispute as { id: string; amount: number; currency: string; status: string; charge?: unknown; balance_transactions?: { amount: number; currency: string }[] };
}

type Dispute = ReturnType<typeof disputeOf>;

/** Inquiries (`warning_*`) move no money; every other dispute has withdrawn the amount. */
const inquiry = (status: string) => status.startsWith('warning_');

/**
 * How much a dispute has taken from the Stripe balance and given back, by its balance
 * transactions when the payload lists them (`funds_withdrawn`, `funds_reinstated`), else by its
 * status: a dispute that is not an inquiry withdrew the amount, and a won one gave it back.
 */
function disputeFunds(dispute: Dispute): { currency: string; withdrawn: number; reinstated: number } {
  const transactions = dispute.balance_transactions ?? [];
  if (transactions.length > 0) {
    return {
      currency: transactions[0].currency,
      withdrawn: transactions.filter((t) => t.amount < 0).reduce((sum, t) => sum - t.amount, 0),
      reinstated: transactions.filter((t) => t.amount > 0).reduce((sum, t) => sum + t.amount, 0),
    };
  }
  const withdrawn = inquiry(dispute.status) ? 0 : dispute.amount;
  return { currency: dispute.currency, withdrawn, reinstated: dispute.status === 'won' ? withdrawn : 0 };
}

/**
 * The two directions of a dispute's money, each with the entry kinds it posts under (and the
 * names earlier versions posted under), and how it moves `dispute_losses`.
 */
const disputeDirections = [
  { name: 'withdrawn', kinds: ['dispute_funds_withdrawn', 'dispute_opened'], into: 'dispute_losses', from: 'stripe_balance', lossSign: 1 },
  { name: 'reinstated', kinds: ['dispute_funds_reinstated', 'dispute_won'], into: 'stripe_balance', from: 'dispute_losses', lossSign: -1 },
] as const;

async function postDispute(db: Db, event: StripeEvent): Promise<void> {
  const dispute = disputeOf(event);
  const funds = disputeFunds(dispute);
  const chargeId = idOf(dispute.charge);
  await withTransaction(db, async (tx) => {
    await lockReference(tx, dispute.id);
    if (chargeId) await recordDisputeCharge(tx, dispute.id, chargeId);
    for (const direction of disputeDirections) {
      // Each direction only grows: an older payload delivered late posts nothing.
      const target = funds[direction.name];
      const posted = direction.lossSign * (await postedAmount(tx, dispute.id, [...direction.kinds], 'dispute_losses'));
      await post(tx, {
        sourceKey: `dispute:${dispute.id}:${direction.name}-to:${target}`,
        kind: direction.kinds[0],
        reference: dispute.id,
        description: `Dispute ${dispute.id}: funds ${direction.name}`,
        occurredAt: at(event.created),
        ...sourceOf(event),
        lines: transfer(direction.into, direction.from, funds.currency, Math.max(0, target - posted)),
      });
    }
  });
}

export function chargeLedgerActivities({ db, stripe }: ActivityDependencies) {
  return {
    async postChargeSale(eventId: string): Promise<void> {
      await postChargeSale({ db, stripe }, await loadEventPayload(db, eventId));
    },

    async postChargeRefunds(eventId: string): Promise<void> {
      await postChargeRefunds(db, await loadEventPayload(db, eventId));
    },

    async postRefundFailed(eventId: string): Promise<void> {
      await postRefundFailed(db, await loadEventPayload(db, eventId));
    },

    async postDispute(eventId: string): Promise<void> {
      await postDispute(db, await loadEventPayload(db, eventId));
    },

    // The names earlier versions scheduled; runs started by them may still replay to these.
    async postDisputeOpened(eventId: string): Promise<void> {
      await postDispute(db, await loadEventPayload(db, eventId));
    },

    async postDisputeClosed(eventId: string): Promise<void> {
      await postDispute(db, await loadEventPayload(db, eventId));
    },
  };
}
