import { ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';

export interface ProcessStripeEventInput {
  eventId: string;
  type: string;
}

export type ProcessStripeEventResult = { status: 'processed' | 'ignored' };

const bookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

// Handlers retry transient failures (a database or mail server away) without limit:
// an accepted event must end processed. Bad data fails at once with a typed, non-retryable
// ApplicationFailure and leaves the event `failed` for an operator.
const effects = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '5 minutes' },
});

type Handler = (eventId: string) => Promise<void>;

/** A paid invoice: one payment, its documents, the emails and the ledger, each step idempotent. */
async function invoicePaid(eventId: string): Promise<void> {
  await effects.settleDunning(eventId, 'recovered');
  const paymentId = await effects.recordInvoicePayment(eventId);
  if (paymentId === null) return;
  await effects.createPaymentDocuments(paymentId);
  await effects.emailPaymentDocuments(paymentId);
  await effects.postPaymentToLedger(paymentId);
  await effects.recordSubscriptionPeriod(paymentId);
}

const handlers: Record<string, Handler> = {
  'customer.created': effects.syncCustomer,
  'customer.updated': effects.syncCustomer,
  'invoice.paid': invoicePaid,
  'invoice.payment_succeeded': invoicePaid,
  'invoice.finalized': effects.postInvoiceFinalized,
  'invoice.marked_uncollectible': async (eventId) => {
    await effects.settleDunning(eventId, 'uncollectible');
    await effects.postInvoiceUncollectible(eventId);
  },
  'invoice.voided': (eventId) => effects.settleDunning(eventId, 'voided'),
  'invoice.payment_failed': effects.startOrSignalDunning,
  'customer.subscription.created': effects.syncSubscription,
  'customer.subscription.updated': effects.syncSubscription,
  'customer.subscription.deleted': async (eventId) => {
    await effects.syncSubscription(eventId);
    await effects.sendCustomerNotice(eventId, 'subscription_canceled');
  },
  'customer.subscription.trial_will_end': (eventId) => effects.sendCustomerNotice(eventId, 'trial_will_end'),
  'invoice.upcoming': (eventId) => effects.sendCustomerNotice(eventId, 'renewal_upcoming'),
  'invoice.payment_action_required': (eventId) => effects.sendCustomerNotice(eventId, 'payment_action_required'),
  'customer.source.expiring': (eventId) => effects.sendCustomerNotice(eventId, 'card_expiring'),
  'customer.deleted': effects.syncCustomer,
  'checkout.session.completed': effects.completeCheckout,
  'customer.subscription.paused': effects.syncSubscription,
  'customer.subscription.resumed': effects.syncSubscription,
  'charge.refunded': effects.postChargeRefunds,
  'charge.dispute.created': effects.postDisputeOpened,
  'charge.dispute.closed': effects.postDisputeClosed,
};

/** One execution per Stripe event; its workflow id is the event id. */
export async function processStripeEvent(input: ProcessStripeEventInput): Promise<ProcessStripeEventResult> {
  await bookkeeping.markEventProcessing(input.eventId, workflowInfo().runId);

  const handler = handlers[input.type];
  if (!handler) {
    await bookkeeping.markEventFinished(input.eventId, 'ignored');
    return { status: 'ignored' };
  }
  try {
    await handler(input.eventId);
  } catch (err) {
    await bookkeeping.markEventFinished(input.eventId, 'failed', describe(err));
    // Failing the execution makes it visible (and resettable) in the Temporal Web UI.
    throw ApplicationFailure.nonRetryable(`processing ${input.type} failed: ${describe(err)}`, 'EventProcessingFailed');
  }
  await bookkeeping.markEventFinished(input.eventId, 'processed');
  return { status: 'processed' };
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { message?: string } }).cause;
  return cause?.message ?? (err instanceof Error ? err.message : String(err));
}

export { dunning } from './dunning';
