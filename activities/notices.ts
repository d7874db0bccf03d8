import { log } from '@temporalio/activity';
import { eventRefs, idOf, type EventRefs, type StripeEvent, type Json } from '../src/platform/stripe-event';
import type { Db } from '../src/platform/db';
import { formatAmount } from '../src/platform/money';
import { sendOnce } from './outbox';
import { customerEmail, type EmailText } from './emails';
import { sellerNameOf } from './sellers';
import { finalizedAtOf, issuerNamesOf } from '../src/platform/invoice';
import { invalidEvent, type NoticeKind } from '../workflows/contracts';
import { customerAddressOf } from './customers';
import { loadEventPayload } from '../src/store/events';
import { getDunningCase } from '../src/store/dunning';
import { invoiceVoided } from '../src/store/ledger';
import { paymentOfInvoice } from '../src/store/payments';
import { withdrawOutboxRow } from '../src/store/outbox';
import { subscriptionEnded } from '../src/store/subscriptions';
import type { ActivityDependencies } from './dependencies';

const day = (seconds: number | null | undefined) => (seconds ? new Date(seconds * 1000).toISOString().slice(0, 10) : 'soon');

/**
 * What each notice is about, as the key that makes it one email however often the event comes
 * (the object and the moment: a trial end, a period, an expiry month), and what it says.
 */
function noticeOf(kind: NoticeKind, object: Json, refs: EventRefs): { key: string; says: (sellerName: string) => EmailText } {
  switch (kind) {
    case 'trial_will_end':
      return { key: `${object.id}:${object.trial_end}`, says: (seller) => customerEmail.trialWillEnd(day(object.trial_end), seller) };
    case 'subscription_canceled':
      return { key: object.id, says: (seller) => customerEmail.subscriptionCanceled(day(object.ended_at ?? object.canceled_at), seller) };
    case 'renewal_upcoming':
      return {
        key: `${refs.subscriptionId ?? idOf(object.customer)}:${object.period_end ?? object.next_payment_attempt}`,
        says: (seller) => customerEmail.renewalUpcoming(formatAmount(object.amount_due ?? object.total, object.currency), day(object.next_payment_attempt ?? object.period_end), seller),
      };
    case 'payment_action_required':
      return {
        key: `${object.id}:${object.attempt_count ?? 0}`,
        says: (seller) => customerEmail.paymentActionRequired(formatAmount(object.amount_due, object.currency), object.hosted_invoice_url ?? null, seller),
      };
    case 'card_expiring':
      return {
        key: `${object.id}:${object.exp_year}-${object.exp_month}`,
        says: (seller) => customerEmail.cardExpiring(`${object.brand ?? 'card'} ending ${object.last4}`, `${object.exp_month}/${object.exp_year}`, seller),
      };
  }
}

/**
 * What a notice was overtaken by, when it no longer stands. Stripe delivers events in any order
 * and again after an outage, so a request to confirm a payment can arrive after the invoice was
 * paid or voided, a renewal or trial reminder after the subscription ended; the customer is not
 * told what is no longer true.
 */
async function overtakenBy(db: Db, kind: NoticeKind, refs: EventRefs): Promise<string | null> {
  switch (kind) {
    case 'payment_action_required':
      if (!refs.invoiceId) return null;
      if (await paymentOfInvoice(db, refs.invoiceId)) return 'the invoice is paid';
      // A void closes the invoice's dunning case as voided and books the void; a case that had
      // already ended otherwise keeps its outcome, so both are asked.
      if ((await getDunningCase(db, refs.invoiceId))?.status === 'voided' || (await invoiceVoided(db, refs.invoiceId))) return 'the invoice is voided';
      return null;
    case 'trial_will_end':
    case 'renewal_upcoming':
      return refs.subscriptionId && (await subscriptionEnded(db, refs.subscriptionId)) ? 'the subscription has ended' : null;
    case 'subscription_canceled':
    case 'card_expiring':
      return null;
  }
}

/** The customer's address: the invoice's own (invoices), else the customer's. */
function recipientOf(deps: Pick<ActivityDependencies, 'db' | 'stripe'>, event: StripeEvent, object: Json): Promise<string | null> {
  const email = typeof object.customer_email === 'string' ? object.customer_email : null;
  return customerAddressOf(deps, { email, customerId: idOf(object.customer), account: event.account ?? null, emailAsOf: finalizedAtOf(object) }, event.id);
}

async function sendCustomerNotice(
  deps: Pick<ActivityDependencies, 'db' | 'mailer' | 'config' | 'stripe'>,
  event: StripeEvent,
  kind: NoticeKind,
): Promise<'sent' | 'already_sent' | 'no_recipient' | 'overtaken'> {
  const object = event.data.object as Json;
  if (typeof object.id !== 'string' && kind !== 'renewal_upcoming') throw invalidEvent(event, 'data.object has no id');
  const refs = eventRefs(event);
  const notice = noticeOf(kind, object, refs);
  const key = `notice:${kind}:${notice.key}`;
  const overtaken = await overtakenBy(deps.db, kind, refs);
  // An attempt before (a mail server away) may have left the email waiting: it will not go out.
  if (overtaken && (await withdrawOutboxRow(deps.db, key))) {
    log.info(`notice not sent: ${overtaken}`, { kind, eventId: event.id });
    return 'overtaken';
  }
  const to = await recipientOf(deps, event, object);
  if (!to) return 'no_recipient';
  const says = notice.says(await sellerNameOf(deps, deps.config, event.account ?? null, issuerNamesOf(object)));
  return sendOnce(deps.db, deps.mailer, deps.config.MAIL_FROM, { key, to, ...says, eventId: event.id });
}

export function noticeActivities(deps: ActivityDependencies) {
  return {
    async sendCustomerNotice(eventId: string, kind: NoticeKind): Promise<void> {
      await sendCustomerNotice(deps, await loadEventPayload(deps.db, eventId), kind);
    },
  };
}
