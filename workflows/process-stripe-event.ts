import { ApplicationFailure, CancellationScope, isCancellation, patched, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { localOnce, localUntilDone, retryQuickly, retryUntilDone, tryLocallyThenRetry } from './activity-proxies';
import {
  currentEventGeneration,
  FailureType,
  type NoticeKind,
  type PlainObjectTable,
  type ProcessStripeEventInput,
  type ProcessStripeEventResult,
} from './contracts';
import { runAllStepsOnce, runPlannedSteps, stepRecorder, type PlannedStep, type Steps } from './planned-steps';

/**
 * Where each kind of step runs. Server round trips are what limits throughput, so work that
 * only touches PostgreSQL (and signals to dunning) runs as local activities, recorded as markers
 * in the history, and effects on the outside world (SMTP) make their first attempt locally too
 * and retry as regular activities. Every step is idempotent (a unique key per effect), so a local
 * activity that runs again after a worker crash changes nothing.
 */
const localSteps: Steps = { bookkeeping: localUntilDone, database: localUntilDone, outside: tryLocallyThenRetry };
/**
 * Email always as a regular activity: how runs of generation 1 (2026-12-02 to 2026-12-04) sent
 * it, and how a run of generation 4 takes its steps after their first attempt together failed.
 */
const localStepsRemoteEmail: Steps = { ...localSteps, outside: retryUntilDone };
/** How runs started before local activities did every step: they replay that way to the end. */
const regularSteps: Steps = { bookkeeping: retryQuickly, database: retryUntilDone, outside: retryUntilDone };

type Handler = (eventId: string) => Promise<void>;

const both =
  (...steps: Handler[]): Handler =>
  async (eventId) => {
    for (const step of steps) await step(eventId);
  };

/** A paid invoice, as runs started before local activities did it: each step its own activity. */
async function invoicePaidStepByStep(eventId: string): Promise<void> {
  await retryUntilDone.settleDunning(eventId, 'recovered');
  const paymentId = await retryUntilDone.recordInvoicePayment(eventId);
  if (paymentId === null) return;
  await retryUntilDone.createPaymentDocuments(paymentId);
  await retryUntilDone.emailPaymentDocuments(paymentId);
  await retryUntilDone.postPaymentToLedger(paymentId);
  await retryUntilDone.recordSubscriptionPeriod(paymentId);
}

/**
 * A paid invoice: the payment, its documents, the ledger and the paid period in PostgreSQL
 * (one local activity), then the documents emailed to the customer and to finance.
 */
const invoicePaid =
  ({ database, outside }: Steps): Handler =>
  async (eventId) => {
    const paymentId = await database.recordInvoicePaid(eventId);
    if (paymentId !== null) await outside.emailPaymentDocuments(paymentId);
  };

/** What each event type does; types not listed are stored and marked `ignored`. */
function handlersOf({ database, outside }: Steps, paidInvoice: Handler): Record<string, Handler> {
  const store = (table: PlainObjectTable): Handler => (eventId) => database.syncPlainObject(eventId, table);
  const notify = (kind: NoticeKind): Handler => (eventId) => outside.sendCustomerNotice(eventId, kind);

  return {
    // Checkout and customers (the welcome email goes out with the checkout)
    'checkout.session.completed': outside.completeCheckout,
    'customer.created': database.syncCustomer,
    'customer.updated': database.syncCustomer,
    'customer.deleted': database.syncCustomer,

    // Subscriptions and entitlements
    'customer.subscription.created': database.syncSubscription,
    'customer.subscription.updated': database.syncSubscription,
    'customer.subscription.paused': database.syncSubscription,
    'customer.subscription.resumed': database.syncSubscription,
    'customer.subscription.deleted': both(database.syncSubscription, notify('subscription_canceled')),
    'customer.subscription.trial_will_end': notify('trial_will_end'),

    // Invoices: payment, dunning, accounting
    'invoice.paid': paidInvoice,
    'invoice.payment_succeeded': paidInvoice,
    'invoice.payment_failed': database.startOrSignalDunning,
    'invoice.created': store('invoices'),
    'invoice.updated': store('invoices'),
    'invoice.finalized': both(store('invoices'), database.postInvoiceFinalized),
    'invoice.voided': (eventId) => database.settleDunning(eventId, 'voided'),
    'invoice.marked_uncollectible': both((eventId) => database.settleDunning(eventId, 'uncollectible'), database.postInvoiceUncollectible),
    'invoice.upcoming': notify('renewal_upcoming'),
    'invoice.payment_action_required': notify('payment_action_required'),

    // Payment methods
    'payment_method.attached': database.syncPaymentMethod,
    'payment_method.detached': database.syncPaymentMethod,
    'payment_method.updated': database.syncPaymentMethod,
    'payment_method.automatically_updated': database.syncPaymentMethod,
    'customer.source.updated': database.syncPaymentMethod,
    'customer.source.expiring': notify('card_expiring'),
    'setup_intent.created': database.syncSetupIntent,
    'setup_intent.succeeded': database.syncSetupIntent,
    'setup_intent.setup_failed': database.syncSetupIntent,

    // Payments outside invoices, refunds and disputes
    'payment_intent.created': store('payment_intents'),
    'payment_intent.succeeded': store('payment_intents'),
    'payment_intent.payment_failed': store('payment_intents'),
    'charge.succeeded': store('charges'),
    'charge.failed': store('charges'),
    'charge.refunded': both(store('charges'), database.postChargeRefunds),
    'charge.dispute.created': database.postDisputeOpened,
    'charge.dispute.closed': database.postDisputeClosed,
  };
}

/**
 * The ledger following Stripe's invoice math: voids reversed, credit notes, dispute funds by
 * their balance transactions, failed refunds. These types did something else (or nothing) in
 * runs started before 2026-11-25, so they take this table behind a patch of their own.
 */
function invoiceMathHandlersOf({ database }: Steps): Record<string, Handler> {
  return {
    'invoice.voided': both((eventId) => database.settleDunning(eventId, 'voided'), database.postInvoiceVoided),
    'credit_note.created': database.postCreditNote,
    'credit_note.voided': database.postCreditNote,
    'charge.dispute.created': database.postDispute,
    'charge.dispute.updated': database.postDispute,
    'charge.dispute.closed': database.postDispute,
    'charge.dispute.funds_withdrawn': database.postDispute,
    'charge.dispute.funds_reinstated': database.postDispute,
    'charge.refund.updated': database.postRefundFailed,
    'refund.updated': database.postRefundFailed,
    'refund.failed': database.postRefundFailed,
  };
}

/**
 * Charges outside invoices booked as sales (before 2026-11-26 they were only stored, and
 * `charge.captured` was ignored), behind a patch of their own.
 */
function chargeSaleHandlersOf({ database }: Steps): Record<string, Handler> {
  const storeAndBook: Handler = both((eventId) => database.syncPlainObject(eventId, 'charges'), database.postChargeSale);
  return { 'charge.succeeded': storeAndBook, 'charge.captured': storeAndBook };
}

const handlers = {
  local: handlersOf(localSteps, invoicePaid(localSteps)),
  localRemoteEmail: handlersOf(localStepsRemoteEmail, invoicePaid(localStepsRemoteEmail)),
  regular: handlersOf(regularSteps, invoicePaidStepByStep),
};

interface Patch {
  patchId: string;
  table: Record<string, Handler>;
  /**
   * The first generation that takes the patch. Set when it adds a step to types that had steps:
   * a run of an earlier generation (which asks no patch) keeps what it started with.
   */
  sinceGeneration?: number;
}

/** Whether a run started with `generation` takes the patch (one without a generation asks `patched()`). */
const takes = (patch: Patch, generation: number | undefined) => generation === undefined || generation >= (patch.sinceGeneration ?? 0);

/** Later changes to what some types do, newest first, each behind its patch. */
function patchesOf(steps: Steps, base: Record<string, Handler>): Patch[] {
  const earlier = [
    { patchId: 'standalone-charge-sales', table: chargeSaleHandlersOf(steps) },
    { patchId: 'ledger-follows-invoice-math', table: invoiceMathHandlersOf(steps) },
  ];
  const later: Patch[] = [
    { patchId: 'overdue-invoices', table: { 'invoice.overdue': steps.database.startOrSignalDunning } },
    { patchId: 'early-fraud-warnings', table: { 'radar.early_fraud_warning.created': steps.outside.warnOfEarlyFraud } },
    { patchId: 'topups', table: topupHandlersOf(steps) },
    { patchId: 'application-fees-transfers', table: applicationFeeTransferHandlersOf(steps) },
    { patchId: 'connected-account-sellers', table: connectedAccountHandlersOf(steps) },
    { patchId: 'checkout-waits-for-payment', table: checkoutPaymentHandlersOf(steps) },
    { patchId: 'fees-payouts-currency', table: balanceHandlersOf(steps, newestIn(earlier, base)) },
    ...earlier,
  ];
  // Each dispute kept as its latest event left it (for the digest's reminders), and finance told
  // as it opens (with the date its answer is due) and as it ends (from 2026-12-06), after what
  // these types did before.
  const disputeTypes = ['charge.dispute.created', 'charge.dispute.updated', 'charge.dispute.closed', 'charge.dispute.funds_withdrawn', 'charge.dispute.funds_reinstated'];
  const withDisputeAlerts = addedOn(later, base, { patchId: 'dispute-alerts', sinceGeneration: 5 }, (before) => {
    const stored = adding((eventId) => steps.database.syncPlainObject(eventId, 'disputes'), disputeTypes, before);
    return { ...stored, ...adding(steps.outside.tellFinanceOfDispute, ['charge.dispute.created', 'charge.dispute.closed'], (type) => stored[type]) };
  });
  // A customer's credit balance changed by hand, booked from Stripe's list of its balance
  // transactions (from 2026-12-06).
  const withCustomerBalance = addedOn(withDisputeAlerts, base, { patchId: 'customer-balance-adjustments', sinceGeneration: 6 }, (before) =>
    adding(steps.database.postCustomerBalanceAdjustments, ['customer.created', 'customer.updated'], before),
  );
  // A reminder to finance before an unanswered dispute's answer is due (from 2026-12-06).
  const withDisputeReminders = addedOn(withCustomerBalance, base, { patchId: 'dispute-reminders', sinceGeneration: 7 }, (before) =>
    adding(steps.database.scheduleDisputeReminder, disputeTypes, before),
  );
  // The part paid of an invoice that still owes money, booked as it is paid (from 2026-12-06).
  const withPartsPaid = addedOn(withDisputeReminders, base, { patchId: 'parts-paid-booked', sinceGeneration: 8 }, (before) =>
    adding(steps.database.postPartPayment, ['invoice.updated'], before),
  );
  // What paid each part of an invoice, kept so that its charge finds the invoice (from the evening
  // of 2026-12-06; before, stored and ignored).
  const withInvoicePayments: Patch[] = [{ patchId: 'invoice-payments-linked', sinceGeneration: 9, table: { 'invoice_payment.paid': steps.database.linkInvoicePayment } }, ...withPartsPaid];
  // A credit note's own document, emailed to the customer and finance after it is posted, and
  // finance told when a note whose document went out is voided (from 2026-12-07).
  return addedOn(withInvoicePayments, base, { patchId: 'credit-note-documents', sinceGeneration: 10 }, (before) => ({
    ...adding(steps.outside.sendCreditNoteDocument, ['credit_note.created'], before),
    ...adding(steps.outside.tellFinanceOfVoidedCreditNote, ['credit_note.voided'], before),
  }));
}

/**
 * `patches` (newest first) with a newer one in front, whose table `add` builds from what each
 * type did before it (in those patches, else in `base`).
 */
function addedOn(patches: Patch[], base: Record<string, Handler>, patch: Omit<Patch, 'table'>, add: (before: HandlerOf) => Record<string, Handler>): Patch[] {
  return [{ ...patch, table: add(newestIn(patches, base)) }, ...patches];
}

type HandlerOf = (type: string) => Handler | undefined;

/** What a type does in the newest of these patches (newest first) that has it, else in `base`. */
const newestIn =
  (patches: Patch[], base: Record<string, Handler>): HandlerOf =>
  (type) =>
    [...patches.map((patch) => patch.table), base].find((table) => Object.hasOwn(table, type))?.[type];

/** A table in which each type keeps what it did before and then takes `step`. */
function adding(step: Handler, types: string[], before: HandlerOf): Record<string, Handler> {
  return Object.fromEntries(
    types.map((type) => {
      const earlier = before(type);
      return [type, earlier ? both(earlier, step) : step];
    }),
  );
}

/** Top-ups from the bank into the Stripe balance (from 2026-12-06; before, stored and ignored). */
function topupHandlersOf({ database }: Steps): Record<string, Handler> {
  const types = ['topup.created', 'topup.succeeded', 'topup.failed', 'topup.canceled', 'topup.reversed'];
  return Object.fromEntries(types.map((type) => [type, database.postTopup]));
}

/**
 * A Connect platform's application fees and its transfers to connected accounts, each with what
 * went back, in its books (from 2026-12-06; before, these types were stored and ignored).
 */
function applicationFeeTransferHandlersOf({ database }: Steps): Record<string, Handler> {
  const types = ['application_fee.created', 'application_fee.refunded', 'transfer.created', 'transfer.updated', 'transfer.reversed'];
  return Object.fromEntries(types.map((type) => [type, database.postApplicationFeeOrTransfer]));
}

/**
 * A connected account's public details, which its documents name as the seller (from
 * 2026-12-06; before, `account.updated` was stored and ignored).
 */
function connectedAccountHandlersOf({ database }: Steps): Record<string, Handler> {
  return { 'account.updated': (eventId) => database.syncPlainObject(eventId, 'connected_accounts') };
}

/**
 * A checkout paid by a delayed payment method completes unpaid and is welcomed when its payment
 * succeeds (from 2026-12-05; before, both types were stored and ignored).
 */
function checkoutPaymentHandlersOf({ outside }: Steps): Record<string, Handler> {
  return {
    'checkout.session.async_payment_succeeded': outside.completeCheckout,
    'checkout.session.async_payment_failed': outside.completeCheckout,
  };
}

/**
 * Stripe's fee and currency conversion from the balance transactions of charges, refunds and
 * disputes, and payouts to the bank (from 2026-12-02): each type keeps what it did and adds its
 * booking.
 */
function balanceHandlersOf({ database }: Steps, before: HandlerOf): Record<string, Handler> {
  const balanceTypes = [
    'charge.succeeded', 'charge.captured', 'charge.updated', 'charge.refunded',
    'charge.refund.updated', 'refund.created', 'refund.updated', 'refund.failed',
    'charge.dispute.created', 'charge.dispute.updated', 'charge.dispute.closed', 'charge.dispute.funds_withdrawn', 'charge.dispute.funds_reinstated',
  ];
  const payoutTypes = ['payout.created', 'payout.updated', 'payout.paid', 'payout.failed', 'payout.canceled'];
  return {
    ...adding(database.postBalanceTransactions, balanceTypes, before),
    ...Object.fromEntries(payoutTypes.map((type) => [type, database.postPayout])),
  };
}

const patchedHandlers = patchesOf(localSteps, handlers.local);

/**
 * The handler of a type, as the run decides: `isPatched` answers for a patch (Temporal's
 * `patched()` in runs started before handler generations, always yes in later ones), and
 * `generation` for how email is sent.
 */
function handlerFor(type: string, local: boolean, generation: number | undefined, isPatched: (patchId: string) => boolean): Handler | undefined {
  const own = (table: Record<string, Handler>) => (Object.hasOwn(table, type) ? table[type] : undefined);
  if (!local) return own(handlers.regular);
  // A patch is asked only for the types it changes, so other events carry no extra marker.
  for (const patch of patchedHandlers) {
    if (Object.hasOwn(patch.table, type) && takes(patch, generation) && isPatched(patch.patchId)) return own(patch.table);
  }
  return own(generation === 2 ? handlers.local : handlers.localRemoteEmail);
}

/** The steps the newest handler of a type for the run's generation (3 and later) takes, written down without running any. */
async function plannedStepsOf(type: string, eventId: string, generation: number): Promise<PlannedStep[] | undefined> {
  const planned: PlannedStep[] = [];
  const steps = stepRecorder(planned);
  const base = handlersOf(steps, invoicePaid(steps));
  const patch = patchesOf(steps, base).find((candidate) => Object.hasOwn(candidate.table, type) && takes(candidate, generation));
  const handler = patch ? patch.table[type] : Object.hasOwn(base, type) ? base[type] : undefined;
  if (!handler) return undefined;
  await handler(eventId);
  return planned;
}

/** The event types runs started now do something with; every other type is stored and marked `ignored`. */
export function handledEventTypes(): string[] {
  const steps = stepRecorder([]);
  const base = handlersOf(steps, invoicePaid(steps));
  const types = new Set([...Object.keys(base), ...patchesOf(steps, base).filter((patch) => takes(patch, currentEventGeneration)).flatMap((patch) => Object.keys(patch.table))]);
  return [...types].sort();
}

/**
 * Generation 3: each stretch of database steps, the event's bookkeeping included, is one local
 * activity (planned-steps). A paid invoice is three local activities, most other events one.
 * Generation 4: an event that sends email first tries all its steps as one local activity (and
 * so does 5, whose handlers add steps: see `sinceGeneration`).
 */
async function processTogether(input: ProcessStripeEventInput): Promise<ProcessStripeEventResult> {
  const { eventId } = input;
  const runId = workflowInfo().runId;
  const planned = await plannedStepsOf(input.type, eventId, input.generation!);
  if (!planned) {
    await localUntilDone.runEventSteps({ eventId, runId, steps: [], finish: 'ignored' });
    return { status: 'ignored' };
  }
  try {
    const allAtOnce = input.generation! >= 4 && planned.some((step) => step.outside);
    if (allAtOnce && (await runAllStepsOnce({ eventId, runId }, planned, localOnce))) return { status: 'processed' };
    await runPlannedSteps({ eventId, runId }, planned, allAtOnce ? localStepsRemoteEmail : localSteps);
  } catch (err) {
    return failed(input, err, localSteps.bookkeeping, () => true);
  }
  return { status: 'processed' };
}

/** Marks the event failed (or cancelled) and ends the run so. */
async function failed(input: ProcessStripeEventInput, err: unknown, bookkeeping: Activities, isPatched: (patchId: string) => boolean): Promise<never> {
  // An operator cancelled the run (Web UI "Cancel"): the event row says so, then the run ends
  // cancelled. The row is written outside the cancelled scope, which would refuse any step.
  if (isCancellation(err) && isPatched('cancelled-runs-mark-their-event')) {
    await CancellationScope.nonCancellable(() => bookkeeping.markEventFinished(input.eventId, 'failed', 'cancelled by an operator; POST /admin/events/:id/retry runs it again'));
    throw err;
  }
  await bookkeeping.markEventFinished(input.eventId, 'failed', describe(err));
  // Failing the execution makes it visible (and resettable) in the Temporal Web UI.
  throw ApplicationFailure.nonRetryable(`processing ${input.type} failed: ${describe(err)}`, FailureType.EventProcessingFailed);
}

/** One execution per Stripe event; its workflow id is the event id. */
export async function processStripeEvent(input: ProcessStripeEventInput): Promise<ProcessStripeEventResult> {
  if (input.generation !== undefined && input.generation >= 3) return processTogether(input);
  // A run started with a generation takes the newest handlers of its generation without asking
  // any patch: a patch records a marker and upserts the TemporalChangeVersion search attribute,
  // a visibility write per event. Runs started before generations existed ask their patches.
  const isPatched = (patchId: string) => input.generation !== undefined || patched(patchId);
  // Runs started by the code before 2026-11-25 scheduled every step as a regular activity.
  const local = isPatched('database-steps-as-local-activities');
  const { bookkeeping } = local ? localSteps : regularSteps;
  await bookkeeping.markEventProcessing(input.eventId, workflowInfo().runId);

  const handler = handlerFor(input.type, local, input.generation, isPatched);
  if (!handler) {
    await bookkeeping.markEventFinished(input.eventId, 'ignored');
    return { status: 'ignored' };
  }
  try {
    await handler(input.eventId);
  } catch (err) {
    return failed(input, err, bookkeeping, isPatched);
  }
  await bookkeeping.markEventFinished(input.eventId, 'processed');
  return { status: 'processed' };
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { message?: string } }).cause;
  return cause?.message ?? (err instanceof Error ? err.message : String(err));
}
