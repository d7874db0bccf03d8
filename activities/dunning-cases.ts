import { WorkflowNotFoundError } from '@temporalio/client';
import {
  DunningSignal,
  dunningWorkflowId,
  WorkflowType,
  type DunningInput,
  type DunningSettlement,
  type InvoiceSettledSignalArgs,
  type PaymentFailedSignalArgs,
} from '../workflows/contracts';
import { readInvoiceOf } from '../src/platform/invoice';
import type { StripeEvent } from '../src/platform/stripe-event';
import { eventSearchAttributes } from '../src/platform/temporal-client';
import { dunningExecutionSummary } from '../src/platform/execution-summary';
import { getDunningCase, lowerDunningAmount, openDunningCase, recordPaymentFailure, settleDunningCase } from '../src/store/dunning';
import { loadEventPayload } from '../src/store/events';
import { paymentOfInvoice } from '../src/store/payments';
import { markSubscriptionPastDue } from '../src/store/subscriptions';
import type { ActivityDependencies } from './dependencies';
import { customerAddressOf } from './customers';

/** Invoice events open, signal and settle dunning cases and their workflows. */

type DunningDependencies = Pick<ActivityDependencies, 'db' | 'temporal' | 'config' | 'stripe'>;

/**
 * Opens the invoice's dunning case and starts its workflow: on a failed payment, which is
 * recorded and signalled to the workflow when it runs already (signal-with-start, so concurrent
 * failures meet in one workflow); or on `invoice.overdue`, an invoice the customer pays by
 * themselves (`send_invoice`) gone past its due date, which joins a dunning already running
 * rather than signal a failure that did not happen. An invoice that was paid, voided or written
 * off before this (late) event starts nothing.
 */
async function startOrSignalDunning(deps: DunningDependencies, event: StripeEvent): Promise<void> {
  const invoice = readInvoiceOf(event);
  const openedBy = event.type === 'invoice.overdue' ? 'overdue' : 'payment_failed';
  if (openedBy === 'payment_failed') {
    await recordPaymentFailure(deps.db, {
      eventId: event.id,
      invoiceId: invoice.id,
      attemptCount: (event.data.object as any).attempt_count ?? null,
      reason: (event.data.object as any).last_finalization_error?.message ?? null,
      nextPaymentAttempt: (event.data.object as any).next_payment_attempt
        ? new Date((event.data.object as any).next_payment_attempt * 1000)
        : null,
      failedAt: new Date(event.created * 1000),
    });
  } else if (invoice.status !== 'open') return;
  if (invoice.status === 'paid' || (await paymentOfInvoice(deps.db, invoice.id))) return;
  const emailAsOf = invoice.finalizedAt ?? event.created;
  const dunningCase = await openDunningCase(deps.db, {
    invoice_id: invoice.id,
    customer_id: invoice.customerId,
    customer_email: await customerAddressOf(deps, { email: invoice.customerEmail, customerId: invoice.customerId, account: event.account ?? null, emailAsOf }, event.id),
    subscription_id: invoice.subscriptionId,
    amount: invoice.amountRemaining || invoice.total,
    currency: invoice.currency,
    hosted_invoice_url: invoice.hostedInvoiceUrl,
    account: event.account ?? null,
    presented_as: invoice.presentedAs,
    opened_by: openedBy,
    email_as_of: new Date(emailAsOf * 1000),
  });
  if (dunningCase.status !== 'open') return;
  if (invoice.subscriptionId) {
    await markSubscriptionPastDue(deps.db, invoice.subscriptionId, invoice.customerId, new Date(event.created * 1000));
  }
  const input: DunningInput = {
    invoiceId: invoice.id,
    scheduleMs: deps.config.DUNNING_SCHEDULE,
    finalAction: deps.config.DUNNING_FINAL_ACTION,
    retryPayments: deps.config.DUNNING_RETRY_PAYMENTS,
    finalGraceMs: deps.config.DUNNING_FINAL_GRACE,
  };
  const options = {
    workflowId: dunningWorkflowId(invoice.id),
    taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
    args: [input] as [DunningInput],
    workflowIdConflictPolicy: 'USE_EXISTING' as const,
    ...dunningExecutionSummary({
      invoiceId: invoice.id,
      customerId: invoice.customerId,
      subscriptionId: invoice.subscriptionId,
      amount: dunningCase.amount,
      currency: dunningCase.currency,
      scheduleMs: input.scheduleMs,
      finalAction: input.finalAction,
      openedBy,
    }),
    // Operations find the dunning of an invoice or customer in the Web UI by these.
    typedSearchAttributes: eventSearchAttributes({
      invoiceId: invoice.id,
      customerId: invoice.customerId,
      subscriptionId: invoice.subscriptionId,
    }),
  };
  if (openedBy === 'overdue') {
    await deps.temporal.workflow.start(WorkflowType.dunning, options);
    return;
  }
  await deps.temporal.workflow.signalWithStart(WorkflowType.dunning, {
    ...options,
    signal: DunningSignal.paymentFailed,
    signalArgs: [{ eventId: event.id } satisfies PaymentFailedSignalArgs],
  });
}

/** The invoice was paid, voided or written off: end its dunning, or keep a late failure from starting one. */
export async function settleDunning(deps: DunningDependencies, event: StripeEvent, outcome: DunningSettlement) {
  const invoice = readInvoiceOf(event);
  // A payment that leaves part of the invoice unpaid (partial payments, a payment plan's
  // instalment) recovers nothing yet: the dunning goes on, asking for what is still due.
  if (outcome === 'recovered' && invoice.status !== 'paid') return lowerDunningAmount(deps.db, invoice.id, invoice.amountRemaining);
  const dunningCase = await getDunningCase(deps.db, invoice.id);
  if (!dunningCase) {
    // A paid invoice needs no closed case to keep a late failure out: its payment row does that
    // (and a case per paid invoice would count every payment as a recovery).
    if (outcome !== 'recovered') await settleDunningCase(deps.db, invoice.id, outcome, invoice.total, invoice.currency);
    return;
  }
  if (dunningCase.status !== 'open') return;
  try {
    await deps.temporal.workflow.getHandle(dunningWorkflowId(invoice.id)).signal(DunningSignal.invoiceSettled, { outcome } satisfies InvoiceSettledSignalArgs);
  } catch (err) {
    // The failure that opened the case has not started the workflow yet; it will find the case closed.
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    await settleDunningCase(deps.db, invoice.id, outcome, invoice.total, invoice.currency);
  }
}


export function dunningCaseActivities(deps: ActivityDependencies) {
  return {
    async startOrSignalDunning(eventId: string): Promise<void> {
      await startOrSignalDunning(deps, await loadEventPayload(deps.db, eventId));
    },

    async settleDunning(eventId: string, outcome: DunningSettlement): Promise<void> {
      await settleDunning(deps, await loadEventPayload(deps.db, eventId), outcome);
    },
  };
}
