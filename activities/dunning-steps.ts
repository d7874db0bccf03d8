import { log } from '@temporalio/activity';
import type { DunningFinalAction, DunningOutcome, InvoiceStanding } from '../workflows/contracts';
import type { Db } from '../src/platform/db';
import { formatAmount } from '../src/platform/money';
import type Stripe from 'stripe';
import { asAccount, isStripeRefusal } from '../src/platform/stripe-client';
import { endDunningCase, getDunningCase, setDunningStage, type DunningCase } from '../src/store/dunning';
import { revokeAccess } from '../src/store/entitlements';
import { withdrawOutboxRow } from '../src/store/outbox';
import { paymentOfInvoice } from '../src/store/payments';
import { markSubscriptionCanceled } from '../src/store/subscriptions';
import { customerEmailSince, storedCustomerEmail } from '../src/store/customers';
import type { ActivityDependencies } from './dependencies';
import { dunningEmail } from './emails';
import { sendOnce } from './outbox';
import { sellerNameOf } from './sellers';

/** The steps of an invoice's dunning workflow: notices, payment retries and the final action. */

type DunningDependencies = Pick<ActivityDependencies, 'db' | 'mailer' | 'stripe' | 'config'>;

async function openCase(db: Db, invoiceId: string): Promise<DunningCase | undefined> {
  const dunningCase = await getDunningCase(db, invoiceId);
  if (!dunningCase || dunningCase.status !== 'open') return undefined;
  if (await paymentOfInvoice(db, invoiceId)) return undefined;
  return dunningCase;
}

/** The name dunning emails are signed with: the case's connected account, or the one its invoice is presented as, else the platform. */
function dunningSellerName(deps: Pick<ActivityDependencies, 'db' | 'stripe' | 'config'>, dunningCase: DunningCase): Promise<string> {
  return sellerNameOf(deps, deps.config, dunningCase.account, { accountName: null, accountCountry: null, presentedAs: dunningCase.presented_as });
}

/**
 * Where the case's emails go: the address the customer gave in a customer event since the case's
 * address was taken (its invoice's finalization), else the address it was opened with (the
 * invoice's, else the customer's then). A case opened while no email of the customer was known
 * asks again at each email, so a customer who gives one during dunning gets the notices after it.
 */
async function recipientOfCase(db: Db, dunningCase: DunningCase): Promise<string | null> {
  if (!dunningCase.customer_id) return dunningCase.customer_email;
  if (dunningCase.customer_email) return (await customerEmailSince(db, dunningCase.customer_id, dunningCase.email_as_of)) ?? dunningCase.customer_email;
  return (await storedCustomerEmail(db, dunningCase.customer_id)) ?? null;
}

/** Sends notice `step` of `steps`; false when the invoice turned out to be paid meanwhile. */
async function sendDunningNotice(
  deps: DunningDependencies,
  invoiceId: string,
  step: number,
  steps: number,
  nextStepAt: string | null,
) {
  const key = `dunning:${invoiceId}:notice:${step}`;
  const dunningCase = await openCase(deps.db, invoiceId);
  if (!dunningCase) {
    // An attempt before (a mail server away) may have left the notice waiting: it will not go out.
    await withdrawOutboxRow(deps.db, key);
    return false;
  }
  await setDunningStage(deps.db, invoiceId, `notice ${step}/${steps}`, nextStepAt ? new Date(nextStepAt) : null);
  const to = await recipientOfCase(deps.db, dunningCase);
  if (!to) {
    log.warn('dunning notice not sent: no email of the customer is known', { invoiceId, step });
    return true;
  }
  const amount = formatAmount(dunningCase.amount, dunningCase.currency);
  await sendOnce(deps.db, deps.mailer, deps.config.MAIL_FROM, {
    key,
    to,
    ...dunningEmail.notice(dunningCase, amount, step, steps, await dunningSellerName(deps, dunningCase)),
  });
  return true;
}

/**
 * The invoice's standing just before the final action: our payment row, the case settled by an
 * event meanwhile, and Stripe's own status when a key is set (a payment whose event is late).
 */
async function checkInvoiceStanding(deps: DunningDependencies, invoiceId: string): Promise<InvoiceStanding> {
  if (await paymentOfInvoice(deps.db, invoiceId)) return 'recovered';
  const dunningCase = await getDunningCase(deps.db, invoiceId);
  if (dunningCase?.status === 'recovered' || dunningCase?.status === 'voided' || dunningCase?.status === 'uncollectible') {
    return dunningCase.status;
  }
  if (!deps.stripe) return 'unpaid';
  let invoice: Stripe.Invoice;
  try {
    invoice = await deps.stripe.invoices.retrieve(invoiceId, {}, asAccount(dunningCase?.account));
  } catch (err) {
    // Refused for good (a connected account that disconnected): our own view is all there is.
    if (!isStripeRefusal(err)) throw err;
    log.warn('invoice standing read from our records only: Stripe refused', { invoiceId, account: dunningCase?.account, error: err.message });
    return 'unpaid';
  }
  if (invoice.status === 'paid') return 'recovered';
  if (invoice.status === 'void') return 'voided';
  if (invoice.status === 'uncollectible') return 'uncollectible';
  return 'unpaid';
}

/** One payment retry per step; the idempotency key keeps an activity retry from charging again. */
async function retryInvoicePayment(deps: DunningDependencies, invoiceId: string, step: number): Promise<void> {
  if (!deps.stripe) {
    log.warn('payment retry skipped: STRIPE_SECRET_KEY is not set', { invoiceId });
    return;
  }
  const dunningCase = await getDunningCase(deps.db, invoiceId);
  if (dunningCase?.opened_by === 'overdue') {
    // The customer pays this invoice by themselves (send_invoice): it is not charged on their behalf.
    log.info('payment retry skipped: the invoice is paid by the customer, not charged', { invoiceId });
    return;
  }
  try {
    await deps.stripe.invoices.pay(invoiceId, {}, { ...asAccount(dunningCase?.account), idempotencyKey: `dunning-retry-${invoiceId}-${step}` });
  } catch (err) {
    // A declined retry is an expected outcome: the next step follows the schedule.
    log.info('payment retry did not succeed', { invoiceId, error: (err as Error).message });
  }
}

async function finishDunning(
  deps: DunningDependencies,
  invoiceId: string,
  outcome: DunningOutcome,
  finalAction: DunningFinalAction,
  reason: string | null = null,
): Promise<void> {
  const dunningCase = await getDunningCase(deps.db, invoiceId);
  if (!dunningCase) return;
  await endDunningCase(deps.db, invoiceId, outcome, reason);
  const amount = formatAmount(dunningCase.amount, dunningCase.currency);
  // A case an invoice event closed as voided or written off was not paid: no thank-you for it.
  const paid = outcome === 'recovered' && dunningCase.status !== 'voided' && dunningCase.status !== 'uncollectible';
  const to = paid ? await recipientOfCase(deps.db, dunningCase) : null;
  if (to) {
    await sendOnce(deps.db, deps.mailer, deps.config.MAIL_FROM, {
      key: `dunning:${invoiceId}:recovered`,
      to,
      ...dunningEmail.recovered(amount, await dunningSellerName(deps, dunningCase)),
    });
  }
  if (outcome !== 'exhausted') return;
  const taken = await takeFinalAction(deps, dunningCase, finalAction);
  if (dunningCase.subscription_id) {
    await revokeAccess(deps.db, dunningCase.subscription_id, deps.config.PLAN_ENTITLEMENTS);
  }
  await sendOnce(deps.db, deps.mailer, deps.config.MAIL_FROM, {
    key: `dunning:${invoiceId}:final`,
    to: deps.config.FINANCE_EMAIL,
    ...dunningEmail.exhausted(dunningCase, amount, taken),
  });
}

async function takeFinalAction(deps: DunningDependencies, dunningCase: DunningCase, action: DunningFinalAction) {
  if (action === 'none') return 'none (DUNNING_FINAL_ACTION=none)';
  if (!deps.stripe) {
    log.warn('final dunning action skipped: STRIPE_SECRET_KEY is not set', { invoiceId: dunningCase.invoice_id, action });
    return `${action} skipped: no Stripe API key`;
  }
  const options = { ...asAccount(dunningCase.account), idempotencyKey: `dunning-final-${dunningCase.invoice_id}` };
  try {
    if (action === 'mark_uncollectible') {
      await deps.stripe.invoices.markUncollectible(dunningCase.invoice_id, {}, options);
      return 'invoice marked uncollectible';
    }
    if (!dunningCase.subscription_id) return 'cancel_subscription skipped: the invoice has no subscription';
    await deps.stripe.subscriptions.cancel(dunningCase.subscription_id, {}, options);
  } catch (err) {
    // Asking again would be refused again and hold the case open for ever: finance is told instead.
    if (!isStripeRefusal(err)) throw err;
    log.warn('final dunning action refused by Stripe', { invoiceId: dunningCase.invoice_id, account: dunningCase.account, action, error: err.message });
    return `${action} not taken: Stripe refused it${dunningCase.account ? ` as ${dunningCase.account}` : ''} (${err.message}); take it by hand if it is still due`;
  }
  await markSubscriptionCanceled(deps.db, dunningCase.subscription_id, dunningCase.customer_id);
  return `subscription ${dunningCase.subscription_id} canceled`;
}

export function dunningStepActivities(deps: ActivityDependencies) {
  return {
    async sendDunningNotice(invoiceId: string, step: number, steps: number, nextStepAt: string | null): Promise<boolean> {
      return sendDunningNotice(deps, invoiceId, step, steps, nextStepAt);
    },

    async checkInvoiceStanding(invoiceId: string): Promise<InvoiceStanding> {
      return checkInvoiceStanding(deps, invoiceId);
    },

    async retryInvoicePayment(invoiceId: string, step: number): Promise<void> {
      await retryInvoicePayment(deps, invoiceId, step);
    },

    /** `reason`: why an operator stopped it (runs started before operator controls pass none). */
    async finishDunning(invoiceId: string, outcome: DunningOutcome, finalAction: DunningFinalAction, reason?: string | null): Promise<void> {
      await finishDunning(deps, invoiceId, outcome, finalAction, reason ?? null);
    },
  };
}
