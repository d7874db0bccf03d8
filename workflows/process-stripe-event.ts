import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { retryQuickly, retryUntilDone } from './activity-proxies';
import {
  FailureType,
  type NoticeKind,
  type PlainObjectTable,
  type ProcessStripeEventInput,
  type ProcessStripeEventResult,
} from './contracts';

type Handler = (eventId: string) => Promise<void>;

/** A paid invoice: one payment, its documents, the emails and the ledger, each step idempotent. */
async function invoicePaid(eventId: string): Promise<void> {
  await retryUntilDone.settleDunning(eventId, 'recovered');
  const paymentId = await retryUntilDone.recordInvoicePayment(eventId);
  if (paymentId === null) return;
  await retryUntilDone.createPaymentDocuments(paymentId);
  await retryUntilDone.emailPaymentDocuments(paymentId);
  await retryUntilDone.postPaymentToLedger(paymentId);
  await retryUntilDone.recordSubscriptionPeriod(paymentId);
}

const store = (table: PlainObjectTable): Handler => (eventId) => retryUntilDone.syncPlainObject(eventId, table);
const notify = (kind: NoticeKind): Handler => (eventId) => retryUntilDone.sendCustomerNotice(eventId, kind);
const both =
  (...steps: Handler[]): Handler =>
  async (eventId) => {
    for (const step of steps) await step(eventId);
  };

/** What each event type does; types not listed are stored and marked `ignored`. */
const handlers: Record<string, Handler> = {
  // Checkout and customers
  'checkout.session.completed': retryUntilDone.completeCheckout,
  'customer.created': retryUntilDone.syncCustomer,
  'customer.updated': retryUntilDone.syncCustomer,
  'customer.deleted': retryUntilDone.syncCustomer,

  // Subscriptions and entitlements
  'customer.subscription.created': retryUntilDone.syncSubscription,
  'customer.subscription.updated': retryUntilDone.syncSubscription,
  'customer.subscription.paused': retryUntilDone.syncSubscription,
  'customer.subscription.resumed': retryUntilDone.syncSubscription,
  'customer.subscription.deleted': both(retryUntilDone.syncSubscription, notify('subscription_canceled')),
  'customer.subscription.trial_will_end': notify('trial_will_end'),

  // Invoices: payment, dunning, accounting
  'invoice.paid': invoicePaid,
  'invoice.payment_succeeded': invoicePaid,
  'invoice.payment_failed': retryUntilDone.startOrSignalDunning,
  'invoice.created': store('invoices'),
  'invoice.updated': store('invoices'),
  'invoice.finalized': both(store('invoices'), retryUntilDone.postInvoiceFinalized),
  'invoice.voided': (eventId) => retryUntilDone.settleDunning(eventId, 'voided'),
  'invoice.marked_uncollectible': both((eventId) => retryUntilDone.settleDunning(eventId, 'uncollectible'), retryUntilDone.postInvoiceUncollectible),
  'invoice.upcoming': notify('renewal_upcoming'),
  'invoice.payment_action_required': notify('payment_action_required'),

  // Payment methods
  'payment_method.attached': retryUntilDone.syncPaymentMethod,
  'payment_method.detached': retryUntilDone.syncPaymentMethod,
  'payment_method.updated': retryUntilDone.syncPaymentMethod,
  'payment_method.automatically_updated': retryUntilDone.syncPaymentMethod,
  'customer.source.updated': retryUntilDone.syncPaymentMethod,
  'customer.source.expiring': notify('card_expiring'),
  'setup_intent.created': retryUntilDone.syncSetupIntent,
  'setup_intent.succeeded': retryUntilDone.syncSetupIntent,
  'setup_intent.setup_failed': retryUntilDone.syncSetupIntent,

  // Payments outside invoices, refunds and disputes
  'payment_intent.created': store('payment_intents'),
  'payment_intent.succeeded': store('payment_intents'),
  'payment_intent.payment_failed': store('payment_intents'),
  'charge.succeeded': store('charges'),
  'charge.failed': store('charges'),
  'charge.refunded': both(store('charges'), retryUntilDone.postChargeRefunds),
  'charge.dispute.created': retryUntilDone.postDisputeOpened,
  'charge.dispute.closed': retryUntilDone.postDisputeClosed,
};

/** One execution per Stripe event; its workflow id is the event id. */
export async function processStripeEvent(input: ProcessStripeEventInput): Promise<ProcessStripeEventResult> {
  await retryQuickly.markEventProcessing(input.eventId, workflowInfo().runId);

  const handler = handlers[input.type];
  if (!handler) {
    await retryQuickly.markEventFinished(input.eventId, 'ignored');
    return { status: 'ignored' };
  }
  try {
    await handler(input.eventId);
  } catch (err) {
    await retryQuickly.markEventFinished(input.eventId, 'failed', describe(err));
    // Failing the execution makes it visible (and resettable) in the Temporal Web UI.
    throw ApplicationFailure.nonRetryable(`processing ${input.type} failed: ${describe(err)}`, FailureType.EventProcessingFailed);
  }
  await retryQuickly.markEventFinished(input.eventId, 'processed');
  return { status: 'processed' };
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { message?: string } }).cause;
  return cause?.message ?? (err instanceof Error ? err.message : String(err));
}
