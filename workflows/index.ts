import { ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { NoticeKind } from '../activities/notices';
import type { PlainObjectTable } from '../activities/stripe-objects';

export interface ProcessStripeEventInput {
  eventId: string;
  type: string;
}

export type ProcessStripeEventResult = { status: 'processed' | 'ignored' };

// Short start-to-close timeouts: a worker that dies mid-activity (SIGKILL, OOM) is noticed
// when they expire, and the activity runs again on another worker. Every activity here takes
// well under a second; a PDF and an email a few.
const bookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

// Handlers retry transient failures (a database or mail server away) without limit:
// an accepted event must end processed. Bad data fails at once with a typed, non-retryable
// ApplicationFailure and leaves the event `failed` for an operator.
const effects = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
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

const store = (table: PlainObjectTable): Handler => (eventId) => effects.syncPlainObject(eventId, table);
const notify = (kind: NoticeKind): Handler => (eventId) => effects.sendCustomerNotice(eventId, kind);
const both =
  (...steps: Handler[]): Handler =>
  async (eventId) => {
    for (const step of steps) await step(eventId);
  };

/** What each event type does; types not listed are stored and marked `ignored`. */
const handlers: Record<string, Handler> = {
  // Checkout and customers
  'checkout.session.completed': effects.completeCheckout,
  'customer.created': effects.syncCustomer,
  'customer.updated': effects.syncCustomer,
  'customer.deleted': effects.syncCustomer,

  // Subscriptions and entitlements
  'customer.subscription.created': effects.syncSubscription,
  'customer.subscription.updated': effects.syncSubscription,
  'customer.subscription.paused': effects.syncSubscription,
  'customer.subscription.resumed': effects.syncSubscription,
  'customer.subscription.deleted': both(effects.syncSubscription, notify('subscription_canceled')),
  'customer.subscription.trial_will_end': notify('trial_will_end'),

  // Invoices: payment, dunning, accounting
  'invoice.paid': invoicePaid,
  'invoice.payment_succeeded': invoicePaid,
  'invoice.payment_failed': effects.startOrSignalDunning,
  'invoice.created': store('invoices'),
  'invoice.updated': store('invoices'),
  'invoice.finalized': both(store('invoices'), effects.postInvoiceFinalized),
  'invoice.voided': (eventId) => effects.settleDunning(eventId, 'voided'),
  'invoice.marked_uncollectible': both((eventId) => effects.settleDunning(eventId, 'uncollectible'), effects.postInvoiceUncollectible),
  'invoice.upcoming': notify('renewal_upcoming'),
  'invoice.payment_action_required': notify('payment_action_required'),

  // Payment methods
  'payment_method.attached': effects.syncPaymentMethod,
  'payment_method.detached': effects.syncPaymentMethod,
  'payment_method.updated': effects.syncPaymentMethod,
  'payment_method.automatically_updated': effects.syncPaymentMethod,
  'customer.source.updated': effects.syncPaymentMethod,
  'customer.source.expiring': notify('card_expiring'),
  'setup_intent.created': effects.syncSetupIntent,
  'setup_intent.succeeded': effects.syncSetupIntent,
  'setup_intent.setup_failed': effects.syncSetupIntent,

  // Payments outside invoices, refunds and disputes
  'payment_intent.created': store('payment_intents'),
  'payment_intent.succeeded': store('payment_intents'),
  'payment_intent.payment_failed': store('payment_intents'),
  'charge.succeeded': store('charges'),
  'charge.failed': store('charges'),
  'charge.refunded': both(store('charges'), effects.postChargeRefunds),
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
export { reconcileStripeEvents } from './reconcile';
