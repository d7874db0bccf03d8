import type { Queryable } from '../src/platform/db';
import { formatAmount } from '../src/platform/money';
import { idOf, type Json, type StripeEvent } from '../src/platform/stripe-event';
import { loadEventPayload } from '../src/store/events';
import { storedCharge } from '../src/store/objects';
import { ownerOfCharge } from '../src/store/payments';
import { invalidEvent } from '../workflows/contracts';
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

async function chargeFacts(db: Queryable, chargeId: string): Promise<ChargeFacts> {
  const [stored, owner] = await Promise.all([storedCharge(db, chargeId), ownerOfCharge(db, chargeId)]);
  return {
    id: chargeId,
    amount: stored?.amount != null && stored.currency ? formatAmount(stored.amount, stored.currency) : null,
    customerId: owner.customerId,
    invoiceId: owner.invoiceId,
    paymentIntentId: stored?.paymentIntentId ?? null,
  };
}

/** Where an operator finds the object in Stripe: the Dashboard for the platform's, the account's own payments for a connected account's. */
function dashboardOf(event: StripeEvent, path: string): string {
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
  const charge = await chargeFacts(deps.db, chargeId);
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
  await sendOnce(deps.db, deps.mailer, deps.config.MAIL_FROM, {
    key: `dispute:${dispute.id}:${closed ? 'closed' : 'opened'}`,
    to: deps.config.FINANCE_EMAIL,
    ...disputeEmail({
      disputeId: dispute.id,
      closed,
      status: String(dispute.status ?? 'unstated'),
      reason: String(dispute.reason ?? 'unstated'),
      amount: formatAmount(dispute.amount, dispute.currency),
      dueBy: answerDueBy(dispute),
      charge: await chargeFacts(deps.db, chargeId),
      where: dashboardOf(event, `disputes/${dispute.id}`),
    }),
    eventId: event.id,
  });
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
  };
}
