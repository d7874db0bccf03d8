import { withTransaction, type Db } from '../src/platform/db';
import type { StripeEvent } from '../src/platform/stripe-event';
import { lockReference, post, postedAmount, postedKeys, postInTransaction } from '../src/store/ledger';
import { loadEventPayload } from '../src/store/events';
import { requirePayment, type Payment } from '../src/store/payments';
import { invalidEvent } from '../workflows/contracts';
import { readInvoice, readInvoiceOf, type InvoiceFacts } from '../src/platform/invoice';
import type { ActivityDependencies } from './dependencies';

/**
 * The accounting of billing events. Every posting has a source key naming its cause, so an
 * event delivered twice, or both `invoice.paid` and `invoice.payment_succeeded`, post once.
 */

const at = (seconds: number) => new Date(seconds * 1000);

/** Receivable, revenue and tax, once per invoice, whichever of finalized or paid comes first. */
async function postInvoiceRecognized(db: Db, invoice: InvoiceFacts, occurredAt: Date, eventId?: string) {
  return post(db, {
    sourceKey: `invoice:${invoice.id}:recognized`,
    kind: 'invoice_recognized',
    reference: invoice.id,
    description: `Invoice ${invoice.number ?? invoice.id} issued`,
    occurredAt,
    eventId,
    lines: [
      { account: 'accounts_receivable', currency: invoice.currency, debit: invoice.total },
      { account: 'revenue', currency: invoice.currency, credit: invoice.total - invoice.tax },
      { account: 'tax_payable', currency: invoice.currency, credit: invoice.tax },
    ],
  });
}

/** Cash in the Stripe balance settles the receivable. */
async function postPaymentSettled(db: Db, payment: Payment) {
  return post(db, {
    sourceKey: `payment:${payment.invoice_id}:settled`,
    kind: 'payment_settled',
    reference: payment.invoice_id,
    description: `Payment of invoice ${payment.invoice_number ?? payment.invoice_id}`,
    occurredAt: payment.paid_at,
    eventId: payment.source_event_id,
    lines: [
      { account: 'stripe_balance', currency: payment.currency, debit: payment.amount },
      { account: 'accounts_receivable', currency: payment.currency, credit: payment.amount },
    ],
  });
}

/** What is still owed on an uncollectible invoice becomes bad debt. */
async function postBadDebt(db: Db, invoice: InvoiceFacts, event: StripeEvent) {
  return post(db, {
    sourceKey: `invoice:${invoice.id}:uncollectible`,
    kind: 'bad_debt',
    reference: invoice.id,
    description: `Invoice ${invoice.number ?? invoice.id} marked uncollectible`,
    occurredAt: at(event.created),
    eventId: event.id,
    lines: [
      { account: 'bad_debt', currency: invoice.currency, debit: invoice.amountRemaining },
      { account: 'accounts_receivable', currency: invoice.currency, credit: invoice.amountRemaining },
    ],
  });
}

/** A payment's invoice recognised (when its finalization did not already) and settled. */
export async function postPaymentToLedger(db: Db, payment: Payment): Promise<void> {
  await postInvoiceRecognized(db, readInvoice(payment.invoice), payment.paid_at, payment.source_event_id);
  await postPaymentSettled(db, payment);
}

function refundLines(currency: string, amount: number) {
  return [
    { account: 'refunds' as const, currency, debit: amount },
    { account: 'stripe_balance' as const, currency, credit: amount },
  ];
}

/**
 * Refunds of a charge. Payloads with the refund list post each refund under its id; newer API
 * versions leave the list out, and then the growth of `amount_refunded` over what was posted is
 * what is new. Both shapes of one refund can arrive, in any order and at once, so the charge's
 * postings are serialised (a lock per charge) and a listed refund is posted only while the total
 * stays within what the charge says is refunded: a refund first posted from the growth is not
 * posted again under its id.
 */
async function postChargeRefunds(db: Db, event: StripeEvent): Promise<void> {
  const charge = event.data.object as Record<string, any>;
  if (charge.object !== 'charge' || typeof charge.id !== 'string' || typeof charge.currency !== 'string') {
    throw invalidEvent(event, 'data.object is not a charge');
  }
  const listed: Record<string, any>[] | undefined = charge.refunds?.data;
  await withTransaction(db, async (tx) => {
    await lockReference(tx, charge.id);
    let posted = await postedAmount(tx, charge.id, 'refund', 'refunds');
    if (!Array.isArray(listed)) {
      await postInTransaction(tx, {
        sourceKey: `charge:${charge.id}:refunded-to:${charge.amount_refunded}`,
        kind: 'refund',
        reference: charge.id,
        description: `Refund of charge ${charge.id} (now ${charge.amount_refunded} refunded)`,
        occurredAt: at(event.created),
        eventId: event.id,
        lines: refundLines(charge.currency, Math.max(0, charge.amount_refunded - posted)),
      });
      return;
    }
    const refunds = listed.filter((r) => r.status !== 'failed' && r.status !== 'canceled');
    const refunded = refunds.reduce((sum, refund) => sum + refund.amount, 0);
    const already = await postedKeys(tx, refunds.map((refund) => `refund:${refund.id}`));
    for (const refund of refunds.sort((a, b) => (a.created ?? 0) - (b.created ?? 0))) {
      if (already.has(`refund:${refund.id}`) || posted + refund.amount > refunded) continue;
      await postInTransaction(tx, {
        sourceKey: `refund:${refund.id}`,
        kind: 'refund',
        reference: charge.id,
        description: `Refund ${refund.id} of charge ${charge.id}`,
        occurredAt: at(refund.created ?? event.created),
        eventId: event.id,
        lines: refundLines(charge.currency, refund.amount),
      });
      posted += refund.amount;
    }
  });
}

function disputeOf(event: StripeEvent) {
  const dispute = event.data.object as Record<string, any>;
  if (dispute.object !== 'dispute' || typeof dispute.id !== 'string' || !Number.isSafeInteger(dispute.amount)) {
    throw invalidEvent(event, 'data.object is not a dispute');
  }
  return dispute as { id: string; amount: number; currency: string; status: string; charge: unknown };
}

type Dispute = ReturnType<typeof disputeOf>;

/** Opening withdraws the disputed amount from the Stripe balance; winning returns it. */
function postDisputeStage(db: Db, dispute: Dispute, event: StripeEvent, stage: 'opened' | 'won') {
  const [debit, credit] =
    stage === 'opened' ? (['dispute_losses', 'stripe_balance'] as const) : (['stripe_balance', 'dispute_losses'] as const);
  return post(db, {
    sourceKey: `dispute:${dispute.id}:${stage}`,
    kind: `dispute_${stage}`,
    reference: dispute.id,
    description: `Dispute ${dispute.id} ${stage}`,
    occurredAt: at(event.created),
    eventId: event.id,
    lines: [
      { account: debit, currency: dispute.currency, debit: dispute.amount },
      { account: credit, currency: dispute.currency, credit: dispute.amount },
    ],
  });
}

async function postDisputeOpened(db: Db, event: StripeEvent) {
  return postDisputeStage(db, disputeOf(event), event, 'opened');
}

/** A won dispute returns the funds; a lost one stays a loss. */
async function postDisputeClosed(db: Db, event: StripeEvent) {
  const dispute = disputeOf(event);
  // If the `created` event never arrived, the withdrawal is still owed to the books.
  await postDisputeStage(db, dispute, event, 'opened');
  if (dispute.status === 'won') await postDisputeStage(db, dispute, event, 'won');
}

export function ledgerActivities({ db }: ActivityDependencies) {
  return {
    async postPaymentToLedger(paymentId: number): Promise<void> {
      await postPaymentToLedger(db, await requirePayment(db, paymentId));
    },

    async postInvoiceFinalized(eventId: string): Promise<void> {
      const event = await loadEventPayload(db, eventId);
      const invoice = readInvoiceOf(event);
      await postInvoiceRecognized(db, invoice, new Date((invoice.finalizedAt ?? event.created) * 1000), event.id);
    },

    async postInvoiceUncollectible(eventId: string): Promise<void> {
      const event = await loadEventPayload(db, eventId);
      const invoice = readInvoiceOf(event);
      await postInvoiceRecognized(db, invoice, new Date((invoice.finalizedAt ?? event.created) * 1000), event.id);
      await postBadDebt(db, invoice, event);
    },

    async postChargeRefunds(eventId: string): Promise<void> {
      await postChargeRefunds(db, await loadEventPayload(db, eventId));
    },

    async postDisputeOpened(eventId: string): Promise<void> {
      await postDisputeOpened(db, await loadEventPayload(db, eventId));
    },

    async postDisputeClosed(eventId: string): Promise<void> {
      await postDisputeClosed(db, await loadEventPayload(db, eventId));
    },
  };
}
