import type { Config } from '../src/platform/config';
import { withTransaction, type Db } from '../src/platform/db';
import { refreshEntitlements } from '../src/store/entitlements';
import { idOf, type StripeEvent, type Json } from '../src/platform/stripe-event';
import { sendOnce } from './outbox';
import { issuePasswordToken } from '../src/store/password-tokens';
import { checkoutPaymentFailedEmail, welcomeEmail } from './emails';
import { sellerNameOf } from './sellers';
import { invalidEvent } from '../workflows/contracts';
import { formatAmount, isCurrencyCode } from '../src/platform/money';

import { fillInCustomer } from '../src/store/customers';
import { loadEventPayload } from '../src/store/events';
import { isSent } from '../src/store/outbox';
import { fillInSubscription } from '../src/store/subscriptions';
import type { ActivityDependencies } from './dependencies';


/**
 * Whether the checkout's money is in. A delayed payment method (a bank debit, a voucher)
 * completes the checkout `unpaid`; `checkout.session.async_payment_succeeded` or `_failed`
 * follows, days later, with the same session. Sessions from API versions before
 * `payment_status` existed were always paid when they completed.
 */
const isPaid = (session: Json): boolean => session.payment_status !== 'unpaid';

/**
 * A checkout: the customer and (for subscriptions) the subscription exist from now on, with the
 * details the customer typed in. The subscription's plan and status arrive with its own events;
 * until then a paid subscription checkout counts as active and an unpaid one grants nothing.
 */
async function applyCheckout(db: Db, plans: Pick<Config, 'PLAN_ENTITLEMENTS'>, event: StripeEvent, session: Json) {
  const customerId = idOf(session.customer);
  if (!customerId) return undefined;
  const details = session.customer_details ?? {};
  const email = emailOf(session);
  const subscriptionId = idOf(session.subscription);
  const paid = isPaid(session);
  await withTransaction(db, async (tx) => {
    await fillInCustomer(tx, {
      id: customerId,
      account: event.account ?? null,
      email,
      name: details.name ?? null,
      phone: details.phone ?? null,
      address: details.address ?? null,
      sourceCreated: event.created,
      sourceEventId: event.id,
    });
    if (subscriptionId) {
      // Only fills in what is missing: the subscription's own events are the authority.
      await fillInSubscription(tx, subscriptionId, customerId, event.account ?? null, paid ? 'active' : null);
      await refreshEntitlements(tx, subscriptionId, plans.PLAN_ENTITLEMENTS);
    }
  });
  return { customerId, email, sessionId: session.id as string, paid, subscribed: subscriptionId !== null };
}

function checkoutSessionOf(event: StripeEvent): Json {
  const session = event.data.object as Json;
  if (session?.object !== 'checkout.session' || typeof session.id !== 'string') {
    throw invalidEvent(event, 'data.object is not a checkout session');
  }
  return session;
}

/** The address the buyer typed at checkout, else the one the session was opened with. */
const emailOf = (session: Json): string | null => session.customer_details?.email ?? session.customer_email ?? null;

/** The welcome email with a single-use link to set a password, once per checkout session. */
async function sendWelcome(
  deps: Pick<ActivityDependencies, 'db' | 'mailer' | 'config' | 'stripe'>,
  checkout: { customerId: string; email: string | null; sessionId: string; subscribed: boolean },
  event: StripeEvent,
): Promise<void> {
  if (!checkout.email) return;
  const key = `welcome:${checkout.sessionId}`;
  if (await isSent(deps.db, key)) return;
  // A token made for an attempt that then failed is never mailed and simply expires.
  const token = await issuePasswordToken(deps.db, checkout.customerId, checkout.email, deps.config.PASSWORD_TOKEN_TTL_HOURS);
  const link = `${deps.config.APP_URL}/set-password?token=${encodeURIComponent(token)}`;
  await sendOnce(deps.db, deps.mailer, deps.config.MAIL_FROM, {
    key,
    to: checkout.email,
    ...welcomeEmail(link, deps.config.PASSWORD_TOKEN_TTL_HOURS, await sellerNameOf(deps, deps.config, event.account ?? null), checkout.subscribed),
    eventId: event.id,
  });
}

/**
 * Tells the buyer of a one-off order that its delayed payment failed, once per session, as
 * Stripe advises for `checkout.session.async_payment_failed`; guests (no customer) included.
 * A subscription's failed first invoice starts dunning, whose notices say it instead.
 */
async function sendPaymentFailed(
  deps: Pick<ActivityDependencies, 'db' | 'mailer' | 'config' | 'stripe'>,
  session: Json,
  event: StripeEvent,
): Promise<void> {
  const to = emailOf(session);
  if (!to || idOf(session.subscription)) return;
  const amount =
    Number.isSafeInteger(session.amount_total) && isCurrencyCode(session.currency) ? formatAmount(session.amount_total, session.currency) : null;
  await sendOnce(deps.db, deps.mailer, deps.config.MAIL_FROM, {
    key: `checkout-payment-failed:${session.id}`,
    to,
    ...checkoutPaymentFailedEmail(amount, deps.config.APP_URL, await sellerNameOf(deps, deps.config, event.account ?? null)),
    eventId: event.id,
  });
}

export function checkoutActivities(deps: ActivityDependencies) {
  return {
    async completeCheckout(eventId: string): Promise<void> {
      const event = await loadEventPayload(deps.db, eventId);
      const session = checkoutSessionOf(event);
      const checkout = await applyCheckout(deps.db, deps.config, event, session);
      if (event.type === 'checkout.session.async_payment_failed') return sendPaymentFailed(deps, session, event);
      // Welcomed once the money is in: by the completed checkout or by its later success.
      if (checkout?.paid) await sendWelcome(deps, checkout, event);
    },
  };
}
