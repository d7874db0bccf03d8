import type { Queryable } from '../src/platform/db';
import { formatAmount } from '../src/platform/money';
import { idOf, type Json, type StripeEvent } from '../src/platform/stripe-event';
import { loadEventPayload } from '../src/store/events';
import { storedCharge } from '../src/store/objects';
import { ownerOfCharge } from '../src/store/payments';
import { invalidEvent } from '../workflows/contracts';
import type { ActivityDependencies } from './dependencies';
import { fraudWarningEmail } from './emails';
import { sendOnce } from './outbox';

/**
 * An early fraud warning: a card issuer told Stripe that a charge was fraudulent, before any
 * dispute. Refunded now, the charge costs its amount; disputed later, it costs the amount, the
 * dispute fee and a mark on the account's dispute rate. Finance is told at once, once per
 * warning, with what we know of the charge; whether to refund stays a person's decision.
 */

/** What our records say of the warned charge (nothing when it predates the service). */
export interface WarnedCharge {
  id: string;
  amount: number | null;
  currency: string | null;
  customerId: string | null;
  invoiceId: string | null;
  paymentIntentId: string | null;
}

async function warnedCharge(db: Queryable, chargeId: string): Promise<WarnedCharge> {
  const [stored, owner] = await Promise.all([storedCharge(db, chargeId), ownerOfCharge(db, chargeId)]);
  return {
    id: chargeId,
    amount: stored?.amount ?? null,
    currency: stored?.currency ?? null,
    customerId: owner.customerId,
    invoiceId: owner.invoiceId,
    paymentIntentId: stored?.paymentIntentId ?? null,
  };
}

async function warnOfEarlyFraud(deps: Pick<ActivityDependencies, 'db' | 'mailer' | 'config'>, event: StripeEvent): Promise<'sent' | 'already_sent' | 'not_actionable'> {
  const warning = event.data.object as Json;
  const chargeId = idOf(warning.charge);
  if (warning.object !== 'radar.early_fraud_warning' || typeof warning.id !== 'string' || !chargeId) {
    throw invalidEvent(event, 'data.object is not an early fraud warning about a charge');
  }
  // Stripe says a warning is no longer actionable once its charge was refunded in full or disputed.
  if (warning.actionable === false) return 'not_actionable';
  const charge = await warnedCharge(deps.db, chargeId);
  const amount = charge.amount !== null && charge.currency ? formatAmount(charge.amount, charge.currency) : null;
  return sendOnce(deps.db, deps.mailer, deps.config.MAIL_FROM, {
    key: `fraud_warning:${warning.id}`,
    to: deps.config.FINANCE_EMAIL,
    ...fraudWarningEmail({ warningId: warning.id, fraudType: String(warning.fraud_type ?? 'unstated'), charge, amount, account: event.account ?? null, livemode: event.livemode === true }),
    eventId: event.id,
  });
}

export function fraudWarningActivities(deps: ActivityDependencies) {
  return {
    /** `radar.early_fraud_warning.created`: finance is emailed once per warning that can still be acted on. */
    async warnOfEarlyFraud(eventId: string): Promise<void> {
      await warnOfEarlyFraud(deps, await loadEventPayload(deps.db, eventId));
    },
  };
}
