import { log } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { Queryable } from '../src/platform/db';
import { disputeReminderExecutionSummary } from '../src/platform/execution-summary';
import { formatAmount } from '../src/platform/money';
import { idOf, type Json, type StripeEvent } from '../src/platform/stripe-event';
import { eventSearchAttributes } from '../src/platform/temporal-client';
import { loadEventPayload } from '../src/store/events';
import { isAwaitingAnswer, isChargeRefundedOrDisputed, isDisputeClosed, storedCharge, storedDispute } from '../src/store/objects';
import { ownerOfCharge } from '../src/store/payments';
import { DisputeReminderSignal, invalidEvent, WorkflowType, type DisputeReminderInput, type DisputeReminderResult, type DisputeSettledSignalArgs } from '../workflows/contracts';
import type { ActivityDependencies } from './dependencies';
import { disputeEmail, fraudWarningEmail, type ChargeFacts } from './emails';
import { sendOnce } from './outbox';
import { answerDueBy } from './stripe-objects';

/**
 * What finance must hear of at once about a charge, each once: an early fraud warning (a card
 * issuer reported the charge as fraudulent, before any dispute: refunded now it costs its amount,
 * disputed later also the dispute fee), a dispute opened (lost by default unless answered by its
 * due date), and how a dispute ended. Deciding what to do stays a person's work.
 */

type AlertDependencies = Pick<ActivityDependencies, 'db' | 'mailer' | 'config'>;

/**
 * The charge as the books know it. Its payment intent (from the alert's object, else the stored
 * charge) finds a part of an invoice whose payments name the intent and not the charge.
 */
async function chargeFacts(db: Queryable, chargeId: string, paymentIntentId: string | null): Promise<ChargeFacts> {
  const stored = await storedCharge(db, chargeId);
  const intent = paymentIntentId ?? stored?.paymentIntentId ?? null;
  const owner = await ownerOfCharge(db, chargeId, intent);
  return {
    id: chargeId,
    amount: stored?.amount != null && stored.currency ? formatAmount(stored.amount, stored.currency) : null,
    customerId: owner.customerId,
    invoiceId: owner.invoiceId,
    paymentIntentId: intent,
  };
}

/** Where an operator finds the object in Stripe: the Dashboard for the platform's, the account's own payments for a connected account's. */
function dashboardOf(event: { account?: string | null; livemode: boolean }, path: string): string {
  if (event.account) return `It is connected account ${event.account}'s: look it up in that account's Dashboard.`;
  return `In Stripe: https://dashboard.stripe.com/${event.livemode ? '' : 'test/'}${path}`;
}

async function warnOfEarlyFraud(deps: AlertDependencies, event: StripeEvent): Promise<void> {
  const warning = event.data.object as Json;
  const chargeId = idOf(warning.charge);
  if (warning.object !== 'radar.early_fraud_warning' || typeof warning.id !== 'string' || !chargeId) {
    throw invalidEvent(event, 'data.object is not an early fraud warning about a charge');
  }
  // Stripe says a warning is no longer actionable once its charge was refunded in full or disputed.
  if (warning.actionable === false) return;
  // The payload is the warning as it was made, so a late one can still say it is.
  if (await isChargeRefundedOrDisputed(deps.db, chargeId)) {
    log.info('early fraud warning not sent: its charge was refunded in full or disputed since', { warningId: warning.id, chargeId });
    return;
  }
  const charge = await chargeFacts(deps.db, chargeId, idOf(warning.payment_intent));
  await sendOnce(deps.db, deps.mailer, deps.config.MAIL_FROM, {
    key: `fraud_warning:${warning.id}`,
    to: deps.config.FINANCE_EMAIL,
    ...fraudWarningEmail({ warningId: warning.id, fraudType: String(warning.fraud_type ?? 'unstated'), charge, where: dashboardOf(event, `payments/${charge.paymentIntentId ?? chargeId}`) }),
    eventId: event.id,
  });
}

/** `charge.dispute.created`: opened (or an inquiry); `charge.dispute.closed`: won, lost or the inquiry closed. */
async function tellFinanceOfDispute(deps: AlertDependencies, event: StripeEvent): Promise<void> {
  const dispute = event.data.object as Json;
  const chargeId = idOf(dispute.charge);
  if (dispute.object !== 'dispute' || typeof dispute.id !== 'string' || !chargeId || !Number.isSafeInteger(dispute.amount) || typeof dispute.currency !== 'string') {
    throw invalidEvent(event, 'data.object is not a dispute of a charge with an amount');
  }
  const closed = event.type === 'charge.dispute.closed';
  // An opening delivered after the dispute ended (as its newest event left it, stored by this
  // event's step just before): its "answer by" would ask for work no longer possible, and how it
  // ended is that event's email.
  const newest = closed ? undefined : await storedDispute(deps.db, dispute.id);
  if (newest?.status && isDisputeClosed(newest.status)) {
    log.info('dispute opening not sent: the dispute has ended since', { disputeId: dispute.id, status: newest.status });
    return;
  }
  await sendOnce(deps.db, deps.mailer, deps.config.MAIL_FROM, {
    key: `dispute:${dispute.id}:${closed ? 'closed' : 'opened'}`,
    to: deps.config.FINANCE_EMAIL,
    ...disputeEmail({
      disputeId: dispute.id,
      stage: closed ? 'closed' : 'opened',
      status: String(dispute.status ?? 'unstated'),
      reason: String(dispute.reason ?? 'unstated'),
      amount: formatAmount(dispute.amount, dispute.currency),
      dueBy: answerDueBy(dispute),
      charge: await chargeFacts(deps.db, chargeId, idOf(dispute.payment_intent)),
      where: dashboardOf(event, `disputes/${dispute.id}`),
    }),
    eventId: event.id,
  });
}

const reminderWorkflowId = (disputeId: string) => `dispute-reminder-${disputeId}`;

/**
 * Any dispute event of a dispute that waits for an answer starts its reminder once (its workflow
 * id names the dispute; a later event finds it running or done and starts nothing), so a missed
 * `created` still gets one; one that says it was answered or closed ends a reminder still waiting.
 */
async function scheduleDisputeReminder(deps: Pick<ActivityDependencies, 'db' | 'temporal' | 'config'>, event: StripeEvent): Promise<void> {
  const dispute = event.data.object as Json;
  if (dispute.object !== 'dispute' || typeof dispute.id !== 'string') throw invalidEvent(event, 'data.object is not a dispute');
  // The dispute as its newest event left it (this event's own step stored it just before): an
  // older event arriving late neither starts a reminder for an answered dispute nor ends one.
  const newest = await storedDispute(deps.db, dispute.id);
  const status = newest?.status ?? String(dispute.status);
  if (!isAwaitingAnswer(status)) return endDisputeReminder(deps, dispute.id, status);
  const dueBy = newest?.dueBy ?? answerDueBy(dispute);
  // Past its due date an answer can no longer be given: nothing to remind of.
  if (!dueBy || dueBy.getTime() <= Date.now()) return;
  const chargeId = idOf(dispute.charge);
  const owner = chargeId ? await ownerOfCharge(deps.db, chargeId, idOf(dispute.payment_intent)) : { customerId: null, invoiceId: null };
  const input: DisputeReminderInput = {
    disputeId: dispute.id,
    dueBy: dueBy.toISOString(),
    leadMs: deps.config.DISPUTE_REMINDER_LEAD,
    livemode: event.livemode,
    account: event.account ?? null,
    paymentIntentId: idOf(dispute.payment_intent),
  };
  try {
    await deps.temporal.workflow.start(WorkflowType.disputeAnswerReminder, {
      workflowId: reminderWorkflowId(dispute.id),
      taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      workflowIdConflictPolicy: 'USE_EXISTING',
      ...disputeReminderExecutionSummary({ disputeId: dispute.id, chargeId, customerId: owner.customerId, dueBy, leadMs: input.leadMs }),
      typedSearchAttributes: eventSearchAttributes({ customerId: owner.customerId, invoiceId: owner.invoiceId, subscriptionId: null }),
    });
  } catch (err) {
    // Its reminder ran already (an event of the dispute came after it).
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/** The dispute was answered or closed: a reminder still waiting ends now (none started, or one that ended already, is fine). */
async function endDisputeReminder(deps: Pick<ActivityDependencies, 'temporal'>, disputeId: string, status: string): Promise<void> {
  try {
    await deps.temporal.workflow.getHandle(reminderWorkflowId(disputeId)).signal(DisputeReminderSignal.disputeSettled, { status } satisfies DisputeSettledSignalArgs);
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
}

/** When the reminder is due: finance is emailed once if the dispute, as its latest event left it, still waits for an answer that can still be given. */
async function remindFinanceOfDispute(deps: AlertDependencies, input: DisputeReminderInput): Promise<DisputeReminderResult> {
  const dispute = await storedDispute(deps.db, input.disputeId);
  const status = dispute?.status ?? null;
  const dueBy = dispute?.dueBy ?? new Date(input.dueBy);
  if (!dispute || !isAwaitingAnswer(String(status)) || dueBy.getTime() <= Date.now()) return { reminded: false, status };
  const chargeId = dispute.chargeId ?? 'unknown';
  await sendOnce(deps.db, deps.mailer, deps.config.MAIL_FROM, {
    key: `dispute:${dispute.id}:unanswered`,
    to: deps.config.FINANCE_EMAIL,
    ...disputeEmail({
      disputeId: dispute.id,
      stage: 'unanswered',
      status: String(status),
      reason: dispute.reason ?? 'unstated',
      amount: dispute.amount !== null && dispute.currency ? formatAmount(dispute.amount, dispute.currency) : 'not in our records',
      dueBy,
      // The dispute's payment intent, as its event named it; else the stored charge's.
      charge: await chargeFacts(deps.db, chargeId, input.paymentIntentId ?? null),
      where: dashboardOf(input, `disputes/${dispute.id}`),
    }),
  });
  return { reminded: true, status };
}

export function chargeAlertActivities(deps: ActivityDependencies) {
  return {
    /** `radar.early_fraud_warning.created`: finance is emailed once per warning that can still be acted on. */
    async warnOfEarlyFraud(eventId: string): Promise<void> {
      await warnOfEarlyFraud(deps, await loadEventPayload(deps.db, eventId));
    },

    async tellFinanceOfDispute(eventId: string): Promise<void> {
      await tellFinanceOfDispute(deps, await loadEventPayload(deps.db, eventId));
    },

    /** Any dispute event: a dispute waiting for an answer gets its reminder workflow, once. */
    async scheduleDisputeReminder(eventId: string): Promise<void> {
      await scheduleDisputeReminder(deps, await loadEventPayload(deps.db, eventId));
    },

    async remindFinanceOfDispute(input: DisputeReminderInput): Promise<DisputeReminderResult> {
      return remindFinanceOfDispute(deps, input);
    },
  };
}
