import type Stripe from 'stripe';
import { withTransaction, type Db, type Queryable } from '../src/platform/db';
import { fromStripeTime as at, type StripeEvent } from '../src/platform/stripe-event';
import { linesOf, lockReference, netsOf, onTheirSides, positions, invoiceVoided, post, reversed, sourceOf, sourceOfPayment, transfer, type EntrySource, type LedgerLine } from '../src/store/ledger';
import { loadEventPayload } from '../src/store/events';
import { chargesPaying, paymentOfInvoice, requirePayment, type Payment } from '../src/store/payments';
import { keepCreditNote } from '../src/store/credit-notes';
import { readInvoice, readInvoiceOf, readInvoicePaymentOf, wherePaid, type InvoiceFacts, type InvoicePaymentFacts } from '../src/platform/invoice';
import { keepInvoicePayment } from '../src/store/invoice-payments';
import { chargesPayingInvoicePlaced } from '../src/store/charges-not-booked';
import { readCreditNoteOf, taxOfCredited, type CreditNoteFacts } from '../src/platform/credit-note';
import type { ActivityDependencies } from './dependencies';
import { withPaidOffStripe } from './paid-off-stripe';
import { settleChargeOfInvoice } from './charge-ledger';

/**
 * The accounting of invoices and their credit notes. Every posting has a source key naming its
 * cause, so an event delivered twice, or both `invoice.paid` and `invoice.payment_succeeded`,
 * post once. All postings about one invoice take the invoice's lock and read what is already
 * booked for it, so events delivered in any order, or at once, end in the same books:
 *
 * - finalized (or the first later event): receivable at `total` against revenue and tax, and the
 *   part the customer balance took (`ending_balance` − `starting_balance`);
 * - paid: a write-off recovered, then the payment, from the Stripe balance or out of band;
 * - marked uncollectible: what is still receivable becomes bad debt (nothing once paid);
 * - voided: everything booked for the invoice reversed;
 * - credit note: revenue and tax reduced against the receivable (before payment), the customer
 *   balance, or money given back out of band; its refund part is the refund's own entry, which
 *   takes the note's own tax on it.
 */

function label(invoice: InvoiceFacts) {
  return `invoice ${invoice.number ?? invoice.id}`;
}

/** Receivable, revenue and tax, and the customer balance's share: once, from whichever event comes first. */
async function postIssued(tx: Queryable, invoice: InvoiceFacts, source: EntrySource, fallbackTime: number) {
  const occurredAt = at(invoice.finalizedAt ?? fallbackTime);
  await post(tx, {
    sourceKey: `invoice:${invoice.id}:recognized`,
    kind: 'invoice_recognized',
    reference: invoice.id,
    description: `${label(invoice)} issued`,
    occurredAt,
    ...source,
    lines: onTheirSides([
      { account: 'accounts_receivable', currency: invoice.currency, debit: invoice.total },
      { account: 'revenue', currency: invoice.currency, credit: invoice.total - invoice.tax },
      { account: 'tax_payable', currency: invoice.currency, credit: invoice.tax },
    ]),
  });
  await post(tx, {
    sourceKey: `invoice:${invoice.id}:customer-balance`,
    kind: 'customer_balance_applied',
    reference: invoice.id,
    description: `Customer balance applied to ${label(invoice)}`,
    occurredAt,
    ...source,
    lines: transfer('customer_balance', 'accounts_receivable', invoice.currency, invoice.balanceApplied),
  });
}

/** A paid invoice: a write-off recovered, then what was paid, through Stripe or out of band. */
async function postPaid(tx: Queryable, invoice: InvoiceFacts, payment: Payment) {
  const writtenOff = (await netsOf(tx, invoice.id, invoice.currency))('bad_debt');
  await post(tx, {
    sourceKey: `invoice:${invoice.id}:recovered`,
    kind: 'bad_debt_recovered',
    reference: invoice.id,
    description: `Written-off ${label(invoice)} paid after all`,
    occurredAt: payment.paid_at,
    ...sourceOfPayment(payment),
    lines: transfer('accounts_receivable', 'bad_debt', invoice.currency, Math.max(0, writtenOff)),
  });
  await postSettled(tx, invoice, sourceOfPayment(payment), payment.paid_at);
}

/**
 * What the payload says was paid so far, booked once: the invoice's first payment entry, then
 * what a later payload adds (an invoice paid in parts; one written off with a part paid, then
 * paid). `amount_paid` only grows, so an older payload adds nothing. An overpayment is not the
 * invoice's: Stripe credits it to the customer's balance.
 */
async function postSettled(tx: Queryable, invoice: InvoiceFacts, source: EntrySource, occurredAt: Date) {
  const paid = wherePaid(invoice);
  const booked = await netsOf(tx, invoice.id, invoice.currency, ['payment_settled']);
  const throughStripe = Math.max(0, paid.throughStripe - booked('stripe_balance'));
  const outsideStripe = Math.max(0, paid.outsideStripe - booked('out_of_band_payments'));
  if (throughStripe + outsideStripe === 0) return;
  const overpaid = Math.min(throughStripe + outsideStripe, Math.max(0, invoice.amountOverpaid + booked('customer_balance')));
  // Every payment entry moves money into one of the two: none there means none was booked.
  const first = booked('stripe_balance') === 0 && booked('out_of_band_payments') === 0;
  const c = invoice.currency;
  await post(tx, {
    sourceKey: first ? `payment:${invoice.id}:settled` : `payment:${invoice.id}:settled-to:${paid.throughStripe + paid.outsideStripe}`,
    kind: 'payment_settled',
    reference: invoice.id,
    description: `${invoice.status === 'paid' ? 'Payment' : 'Part payment'} of ${label(invoice)}${outsideStripe === 0 ? '' : throughStripe === 0 ? ' (out of band)' : ' (partly out of band)'}${overpaid > 0 ? ', overpaid' : ''}`,
    occurredAt,
    ...source,
    lines: [
      { account: 'stripe_balance', currency: c, debit: throughStripe },
      { account: 'out_of_band_payments', currency: c, debit: outsideStripe },
      { account: 'accounts_receivable', currency: c, credit: throughStripe + outsideStripe - overpaid },
      { account: 'customer_balance', currency: c, credit: overpaid },
    ],
  });
}

/** A payment's invoice issued (when its finalization did not already do it) and settled. */
export async function postPaymentToLedger(db: Db, payment: Payment): Promise<void> {
  const invoice = readInvoice(payment.invoice);
  await withTransaction(db, async (tx) => {
    await lockReference(tx, invoice.id);
    await postIssued(tx, invoice, sourceOfPayment(payment), payment.paid_at.getTime() / 1000);
    await postPaid(tx, invoice, payment);
    // Refunds booked before the payment was known could not take their share of the tax.
    for (const chargeId of await chargesPaying(tx, payment)) await settleChargeOfInvoice(tx, chargeId, payment, sourceOfPayment(payment));
  });
}

/**
 * An event of an invoice that still owes money after a part of it was paid (partial payments, a
 * payment plan's instalments): the part paid so far is booked now, not when the last part arrives.
 */
export async function postPartPaymentToLedger(db: Db, stripe: Stripe | undefined, given: StripeEvent): Promise<void> {
  // A paid invoice is booked with its payment (invoice.paid), which also records it.
  const { status, amountPaid } = readInvoiceOf(given);
  if (status === 'paid' || amountPaid === 0) return;
  const event = await withPaidOffStripe(stripe, given);
  await withInvoice(db, event, (tx, invoice) => postSettled(tx, invoice, sourceOf(event), at(event.created)));
}

/** What is still receivable on an uncollectible invoice becomes bad debt, after what was paid of it; after payment, nothing is. */
async function postUncollectible(tx: Queryable, invoice: InvoiceFacts, event: StripeEvent) {
  await postSettled(tx, invoice, sourceOf(event), at(event.created));
  const outstanding = (await netsOf(tx, invoice.id, invoice.currency))('accounts_receivable');
  await post(tx, {
    sourceKey: `invoice:${invoice.id}:uncollectible`,
    kind: 'bad_debt',
    reference: invoice.id,
    description: `${label(invoice)} marked uncollectible`,
    occurredAt: at(event.created),
    ...sourceOf(event),
    lines: transfer('bad_debt', 'accounts_receivable', invoice.currency, Math.max(0, outstanding)),
  });
}

/** A voided invoice ends with nothing on any account: every position it has is reversed. */
async function postVoided(tx: Queryable, invoice: InvoiceFacts, event: StripeEvent) {
  const lines = (await positions(tx, invoice.id)).map(({ account, currency, net }) =>
    net > 0 ? { account, currency, credit: net } : { account, currency, debit: -net },
  );
  await post(tx, {
    sourceKey: `invoice:${invoice.id}:voided`,
    kind: 'invoice_voided',
    reference: invoice.id,
    description: `${label(invoice)} voided`,
    occurredAt: at(event.created),
    ...sourceOf(event),
    lines,
  });
}

/**
 * A credit note reduces revenue and tax. Before payment it reduces the receivable (or, on a
 * written-off invoice, the bad debt); after payment it credits the customer balance or money
 * given back out of band. Its refund part is booked by the refund itself (charge.refunded),
 * which takes the tax share, so it is not booked twice.
 */
function creditNoteLines(note: CreditNoteFacts, writtenOff: number, outstanding: number): LedgerLine[] {
  const credited = note.amount - note.refunded;
  const tax = taxOfCredited(note);
  const fromReceivable = Math.min(note.prePayment, Math.max(0, outstanding));
  const fromBadDebt = Math.min(note.prePayment - fromReceivable, Math.max(0, writtenOff));
  const c = note.currency;
  return [
    { account: 'revenue', currency: c, debit: credited - tax },
    { account: 'tax_payable', currency: c, debit: tax },
    { account: 'accounts_receivable', currency: c, credit: note.prePayment - fromBadDebt },
    { account: 'bad_debt', currency: c, credit: fromBadDebt },
    { account: 'customer_balance', currency: c, credit: note.balanceCredit },
    { account: 'out_of_band_payments', currency: c, credit: note.outOfBand },
  ];
}

async function postCreditNoteIssued(tx: Queryable, note: CreditNoteFacts, event: StripeEvent) {
  const net = await netsOf(tx, note.invoiceId, note.currency);
  await post(tx, {
    sourceKey: `credit_note:${note.id}:issued`,
    kind: 'credit_note',
    reference: note.invoiceId,
    description: `Credit note ${note.number ?? note.id} on invoice ${note.invoiceId}`,
    occurredAt: at(note.created ?? event.created),
    ...sourceOf(event),
    lines: creditNoteLines(note, net('bad_debt'), net('accounts_receivable')),
  });
}

async function postCreditNoteVoided(tx: Queryable, note: CreditNoteFacts, event: StripeEvent) {
  // The void may be the first event about the note: book what it reverses first.
  await postCreditNoteIssued(tx, note, event);
  await post(tx, {
    sourceKey: `credit_note:${note.id}:voided`,
    kind: 'credit_note_voided',
    reference: note.invoiceId,
    description: `Credit note ${note.number ?? note.id} voided`,
    occurredAt: at(event.created),
    ...sourceOf(event),
    lines: reversed(await linesOf(tx, `credit_note:${note.id}:issued`)),
  });
}

/** Runs `post` under the invoice's lock, after booking what the invoice's payload says was issued. */
async function withInvoice(db: Db, event: StripeEvent, post: (tx: Queryable, invoice: InvoiceFacts) => Promise<void>) {
  const invoice = readInvoiceOf(event);
  await withTransaction(db, async (tx) => {
    await lockReference(tx, invoice.id);
    if (await invoiceVoided(tx, invoice.id)) return;
    await postIssued(tx, invoice, sourceOf(event), event.created);
    await post(tx, invoice);
  });
}

/**
 * Runs `post` under the invoice's lock; then the refunds of the charge that paid the invoice take
 * their tax share anew, as the note's refund part takes the note's own tax.
 */
async function withCreditNote(db: Db, event: StripeEvent, post: (tx: Queryable, note: CreditNoteFacts) => Promise<void>) {
  const note = readCreditNoteOf(event);
  await withTransaction(db, async (tx) => {
    await lockReference(tx, note.invoiceId);
    // A voided invoice was reversed as a whole; a credit note arriving after it adds nothing.
    if (await invoiceVoided(tx, note.invoiceId)) return;
    await post(tx, note);
    await keepCreditNote(tx, note);
    await settleChargesOfInvoice(tx, note.invoiceId, sourceOf(event));
  });
}

/**
 * The refunds of the charges that paid the invoice take their tax share anew (under the invoice's
 * lock); before its payment is recorded there is nothing to settle: its booking does it.
 */
async function settleChargesOfInvoice(tx: Queryable, invoiceId: string, source: EntrySource) {
  const payment = await paymentOfInvoice(tx, invoiceId);
  if (!payment) return;
  for (const chargeId of await chargesPaying(tx, payment)) await settleChargeOfInvoice(tx, chargeId, payment, source);
}

/**
 * What paid a part of an invoice (`invoice_payment.paid`), kept so that its payment intent or
 * charge finds the invoice: newer API versions name neither on the invoice's payload nor the
 * invoice on the charge. Refunds of its charge booked before it was known take their tax share
 * now. The invoice's lock keeps this and the payment's booking apart, and the payment intent's
 * keeps it and a refund's booking apart (the refund's charge may be stored while this runs), so
 * whichever comes second sees the other.
 */
export async function linkInvoicePayment(db: Db, part: InvoicePaymentFacts, source: EntrySource): Promise<void> {
  await withTransaction(db, async (tx) => {
    await lockReference(tx, part.invoiceId);
    if (part.paymentIntentId) await lockReference(tx, part.paymentIntentId);
    await keepInvoicePayment(tx, part);
    // Its charge is the invoice's payment, not a sale: no longer waiting to be placed.
    await chargesPayingInvoicePlaced(tx, part.paymentIntentId, part.chargeId);
    await settleChargesOfInvoice(tx, part.invoiceId, source);
  });
}

export function ledgerActivities({ db, stripe }: ActivityDependencies) {
  return {
    async postPaymentToLedger(paymentId: number): Promise<void> {
      await postPaymentToLedger(db, await requirePayment(db, paymentId));
    },

    async postPartPayment(eventId: string): Promise<void> {
      await postPartPaymentToLedger(db, stripe, await loadEventPayload(db, eventId));
    },

    async postInvoiceFinalized(eventId: string): Promise<void> {
      await withInvoice(db, await loadEventPayload(db, eventId), async () => {});
    },

    async postInvoiceUncollectible(eventId: string): Promise<void> {
      // What was paid of it before the write-off is booked first, through Stripe or outside it.
      const event = await withPaidOffStripe(stripe, await loadEventPayload(db, eventId));
      await withInvoice(db, event, (tx, invoice) => postUncollectible(tx, invoice, event));
    },

    async postInvoiceVoided(eventId: string): Promise<void> {
      const event = await loadEventPayload(db, eventId);
      await withInvoice(db, event, (tx, invoice) => postVoided(tx, invoice, event));
    },

    async linkInvoicePayment(eventId: string): Promise<void> {
      const event = await loadEventPayload(db, eventId);
      await linkInvoicePayment(db, readInvoicePaymentOf(event), sourceOf(event));
    },

    async postCreditNote(eventId: string): Promise<void> {
      const event = await loadEventPayload(db, eventId);
      await withCreditNote(db, event, (tx, note) =>
        note.status === 'void' ? postCreditNoteVoided(tx, note, event) : postCreditNoteIssued(tx, note, event),
      );
    },
  };
}
