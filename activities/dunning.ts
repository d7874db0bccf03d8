import { log } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type Stripe from 'stripe';
import type { Config } from '../src/config';
import type { Db } from '../src/db';
import {
  endDunningCase,
  getDunningCase,
  openDunningCase,
  recordPaymentFailure,
  setDunningStage,
  setSubscriptionStatus,
  settleDunningCase,
  type DunningCase,
} from '../src/dunning';
import { setAccessRevoked } from '../src/entitlements';
import type { StripeEvent } from '../src/events';
import { formatAmount } from '../src/money';
import { sendOnce, type Mailer } from '../src/outbox';
import { paymentOfInvoice } from '../src/payments';
import { eventSearchAttributes } from '../src/temporal';
import type { DunningInput, DunningOutcome, DunningSettlement } from '../workflows/dunning';
import { readInvoiceOf } from './payments';
import { dunningEmail } from './emails';

export interface DunningDependencies {
  db: Db;
  mailer: Mailer;
  temporal: Client;
  stripe?: Stripe;
  config: Config;
}

export const dunningWorkflowId = (invoiceId: string) => `dunning-${invoiceId}`;

/**
 * Records a failed payment and starts the invoice's dunning workflow, or signals it when it
 * runs (signal-with-start, so concurrent failures meet in one workflow). An invoice that was
 * paid, voided or written off before this (late) failure event starts nothing.
 */
export async function startOrSignalDunning(deps: DunningDependencies, event: StripeEvent): Promise<void> {
  const invoice = readInvoiceOf(event);
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
  if (invoice.status === 'paid' || (await paymentOfInvoice(deps.db, invoice.id))) return;
  const dunningCase = await openDunningCase(deps.db, {
    invoice_id: invoice.id,
    customer_id: invoice.customerId,
    customer_email: invoice.customerEmail,
    subscription_id: invoice.subscriptionId,
    amount: invoice.amountRemaining || invoice.total,
    currency: invoice.currency,
    hosted_invoice_url: invoice.hostedInvoiceUrl,
  });
  if (dunningCase.status !== 'open') return;
  if (invoice.subscriptionId) await setSubscriptionStatus(deps.db, invoice.subscriptionId, invoice.customerId, 'past_due');
  const input: DunningInput = {
    invoiceId: invoice.id,
    scheduleMs: deps.config.DUNNING_SCHEDULE,
    finalAction: deps.config.DUNNING_FINAL_ACTION,
    retryPayments: deps.config.DUNNING_RETRY_PAYMENTS,
  };
  await deps.temporal.workflow.signalWithStart('dunning', {
    workflowId: dunningWorkflowId(invoice.id),
    taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
    args: [input],
    signal: 'paymentFailed',
    signalArgs: [{ eventId: event.id }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    // Operations find the dunning of an invoice or customer in the Web UI by these.
    typedSearchAttributes: eventSearchAttributes({
      invoiceId: invoice.id,
      customerId: invoice.customerId,
      subscriptionId: invoice.subscriptionId,
    }),
  });
}

/** The invoice was paid, voided or written off: end its dunning, or keep a late failure from starting one. */
export async function settleDunning(deps: DunningDependencies, event: StripeEvent, outcome: DunningSettlement) {
  const invoice = readInvoiceOf(event);
  const dunningCase = await getDunningCase(deps.db, invoice.id);
  if (!dunningCase) {
    await settleDunningCase(deps.db, invoice.id, outcome, invoice.total, invoice.currency);
    return;
  }
  if (dunningCase.status !== 'open') return;
  try {
    await deps.temporal.workflow.getHandle(dunningWorkflowId(invoice.id)).signal('invoiceSettled', { outcome });
  } catch (err) {
    // The failure that opened the case has not started the workflow yet; it will find the case closed.
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    await settleDunningCase(deps.db, invoice.id, outcome, invoice.total, invoice.currency);
  }
}

async function openCase(db: Db, invoiceId: string): Promise<DunningCase | undefined> {
  const dunningCase = await getDunningCase(db, invoiceId);
  if (!dunningCase || dunningCase.status !== 'open') return undefined;
  if (await paymentOfInvoice(db, invoiceId)) return undefined;
  return dunningCase;
}

/** Sends notice `step` of `steps`; false when the invoice turned out to be paid meanwhile. */
export async function sendDunningNotice(
  deps: DunningDependencies,
  invoiceId: string,
  step: number,
  steps: number,
  nextStepAt: string | null,
) {
  const dunningCase = await openCase(deps.db, invoiceId);
  if (!dunningCase) return false;
  await setDunningStage(deps.db, invoiceId, `notice ${step}/${steps}`, nextStepAt ? new Date(nextStepAt) : null);
  if (!dunningCase.customer_email) {
    log.warn('dunning notice not sent: the invoice has no customer email', { invoiceId, step });
    return true;
  }
  const amount = formatAmount(dunningCase.amount, dunningCase.currency);
  await sendOnce(deps.db, deps.mailer, deps.config.MAIL_FROM, {
    key: `dunning:${invoiceId}:notice:${step}`,
    to: dunningCase.customer_email,
    ...dunningEmail.notice(dunningCase, amount, step, steps, deps.config.SELLER_NAME),
  });
  return true;
}

/** One payment retry per step; the idempotency key keeps an activity retry from charging again. */
export async function retryInvoicePayment(deps: DunningDependencies, invoiceId: string, step: number): Promise<void> {
  if (!deps.stripe) {
    log.warn('payment retry skipped: STRIPE_SECRET_KEY is not set', { invoiceId });
    return;
  }
  try {
    await deps.stripe.invoices.pay(invoiceId, {}, { idempotencyKey: `dunning-retry-${invoiceId}-${step}` });
  } catch (err) {
    // A declined retry is an expected outcome: the next step follows the schedule.
    log.info('payment retry did not succeed', { invoiceId, error: (err as Error).message });
  }
}

export async function finishDunning(
  deps: DunningDependencies,
  invoiceId: string,
  outcome: DunningOutcome,
  finalAction: DunningInput['finalAction'],
): Promise<void> {
  const dunningCase = await getDunningCase(deps.db, invoiceId);
  if (!dunningCase) return;
  await endDunningCase(deps.db, invoiceId, outcome);
  const amount = formatAmount(dunningCase.amount, dunningCase.currency);
  if (outcome === 'recovered' && dunningCase.customer_email) {
    await sendOnce(deps.db, deps.mailer, deps.config.MAIL_FROM, {
      key: `dunning:${invoiceId}:recovered`,
      to: dunningCase.customer_email,
      ...dunningEmail.recovered(amount, deps.config.SELLER_NAME),
    });
  }
  if (outcome !== 'exhausted') return;
  const taken = await takeFinalAction(deps, dunningCase, finalAction);
  if (dunningCase.subscription_id) {
    await setAccessRevoked(deps.db, dunningCase.subscription_id, true, deps.config.PLAN_ENTITLEMENTS);
  }
  await sendOnce(deps.db, deps.mailer, deps.config.MAIL_FROM, {
    key: `dunning:${invoiceId}:final`,
    to: deps.config.FINANCE_EMAIL,
    ...dunningEmail.exhausted(dunningCase, amount, taken),
  });
}

async function takeFinalAction(deps: DunningDependencies, dunningCase: DunningCase, action: DunningInput['finalAction']) {
  if (action === 'none') return 'none (DUNNING_FINAL_ACTION=none)';
  if (!deps.stripe) {
    log.warn('final dunning action skipped: STRIPE_SECRET_KEY is not set', { invoiceId: dunningCase.invoice_id, action });
    return `${action} skipped: no Stripe API key`;
  }
  const idempotencyKey = `dunning-final-${dunningCase.invoice_id}`;
  if (action === 'mark_uncollectible') {
    await deps.stripe.invoices.markUncollectible(dunningCase.invoice_id, {}, { idempotencyKey });
    return 'invoice marked uncollectible';
  }
  if (!dunningCase.subscription_id) return 'cancel_subscription skipped: the invoice has no subscription';
  await deps.stripe.subscriptions.cancel(dunningCase.subscription_id, {}, { idempotencyKey });
  await setSubscriptionStatus(deps.db, dunningCase.subscription_id, dunningCase.customer_id, 'canceled');
  return `subscription ${dunningCase.subscription_id} canceled`;
}
