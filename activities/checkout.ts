import type { Config } from '../src/config';
import { withTransaction, type Db } from '../src/db';
import { refreshEntitlements } from '../src/entitlements';
import { idOf, type StripeEvent } from '../src/events';
import { sendOnce, type Mailer } from '../src/outbox';
import { issuePasswordToken } from '../src/password-tokens';
import { welcomeEmail } from './emails';
import { invalidEvent } from '../src/failures';

type Json = Record<string, any>;

/**
 * A completed checkout: the customer and (for subscriptions) the subscription exist from now
 * on, with the details the customer typed in. The subscription's plan and status arrive with
 * its own events; until then a subscription checkout counts as active.
 */
export async function applyCheckout(db: Db, plans: Pick<Config, 'PLAN_ENTITLEMENTS'>, event: StripeEvent) {
  const session = event.data.object as Json;
  if (session.object !== 'checkout.session' || typeof session.id !== 'string') {
    throw invalidEvent(event, 'data.object is not a checkout session');
  }
  const customerId = idOf(session.customer);
  if (!customerId) return undefined;
  const details = session.customer_details ?? {};
  const email: string | null = details.email ?? session.customer_email ?? null;
  const subscriptionId = idOf(session.subscription);
  await withTransaction(db, async (tx) => {
    await tx.query(
      `INSERT INTO customers (id, account, email, name, phone, address, source_created, source_event_id)
       VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7), $8)
       ON CONFLICT (id) DO UPDATE SET
         email = coalesce(customers.email, EXCLUDED.email), name = coalesce(customers.name, EXCLUDED.name),
         phone = coalesce(customers.phone, EXCLUDED.phone), address = coalesce(customers.address, EXCLUDED.address)`,
      [customerId, event.account ?? null, email, details.name ?? null, details.phone ?? null, details.address ?? null, event.created, event.id],
    );
    if (subscriptionId) {
      // Only fills in what is missing: the subscription's own events are the authority.
      await tx.query(
        `INSERT INTO subscriptions (id, customer_id, account, status) VALUES ($1, $2, $3, 'active')
         ON CONFLICT (id) DO UPDATE SET customer_id = coalesce(subscriptions.customer_id, EXCLUDED.customer_id)`,
        [subscriptionId, customerId, event.account ?? null],
      );
      await refreshEntitlements(tx, subscriptionId, plans.PLAN_ENTITLEMENTS);
    }
  });
  return { customerId, email, sessionId: session.id as string };
}

/** The welcome email with a single-use link to set a password, once per checkout session. */
export async function sendWelcome(
  deps: { db: Db; mailer: Mailer; config: Pick<Config, 'MAIL_FROM' | 'SELLER_NAME' | 'APP_URL' | 'PASSWORD_TOKEN_TTL_HOURS'> },
  checkout: { customerId: string; email: string | null; sessionId: string },
  eventId: string,
): Promise<void> {
  if (!checkout.email) return;
  const key = `welcome:${checkout.sessionId}`;
  const { rows } = await deps.db.query(`SELECT 1 FROM email_outbox WHERE key = $1 AND status = 'sent'`, [key]);
  if (rows.length > 0) return;
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
