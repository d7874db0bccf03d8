import type { Config } from '../src/platform/config';
import { withTransaction, type Db } from '../src/platform/db';
import { refreshEntitlements } from '../src/store/entitlements';
import { idOf, type StripeEvent, type Json } from '../src/platform/stripe-event';
import { sendOnce } from './outbox';
import { type Mailer } from '../src/platform/mailer';
import { issuePasswordToken } from '../src/store/password-tokens';
import { welcomeEmail } from './emails';
import { invalidEvent } from '../workflows/contracts';

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
async function applyCheckout(db: Db, plans: Pick<Config, 'PLAN_ENTITLEMENTS'>, event: StripeEvent) {
  const session = event.data.object as Json;
  if (session.object !== 'checkout.session' || typeof session.id !== 'string') {
    throw invalidEvent(event, 'data.object is not a checkout session');
  }
  const customerId = idOf(session.customer);
  if (!customerId) return undefined;
  const details = session.customer_details ?? {};
  const email: string | null = details.email ?? session.customer_email ?? null;
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
  return { customerId, email, sessionId: session.id as string, paid };
}

/** The welcome email with a single-use link to set a password, once per checkout session. */
async function sendWelcome(
  deps: { db: Db; mailer: Mailer; config: Pick<Config, 'MAIL_FROM' | 'SELLER_NAME' | 'APP_URL' | 'PASSWORD_TOKEN_TTL_HOURS'> },
  checkout: { customerId: string; email: string | null; sessionId: string },
  eventId: string,
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
    ...welcomeEmail(link, deps.config.PASSWORD_TOKEN_TTL_HOURS, deps.config.SELLER_NAME),
    eventId,
  });
}

export function checkoutActivities(deps: ActivityDependencies) {
  return {
    async completeCheckout(eventId: string): Promise<void> {
      const event = await loadEventPayload(deps.db, eventId);
      const checkout = await applyCheckout(deps.db, deps.config, event);
      // Welcomed once the money is in: by the completed checkout or by its later success.
      if (checkout?.paid) await sendWelcome(deps, checkout, event.id);
    },
  };
}
