import type { Db, Queryable } from '../platform/db';


export interface PaidPeriod {
  subscriptionId: string;
  customerId: string | null;
  account: string | null;
  start: Date;
  end: Date;
}

/**
 * Records that a paid invoice covered a period. Periods only move forward, so an older
 * invoice paid late (or delivered late) never shortens what the customer has paid for.
 */
export async function recordPaidPeriod(db: Db, period: PaidPeriod): Promise<void> {
  await db.query(
    `INSERT INTO subscriptions (id, customer_id, account, current_period_start, current_period_end, paid_through)
     VALUES ($1, $2, $3, $4, $5, $5)
     ON CONFLICT (id) DO UPDATE SET
       customer_id = coalesce(subscriptions.customer_id, EXCLUDED.customer_id),
       current_period_start = CASE WHEN subscriptions.current_period_end IS NULL
                                     OR EXCLUDED.current_period_end > subscriptions.current_period_end
                                   THEN EXCLUDED.current_period_start ELSE subscriptions.current_period_start END,
       current_period_end = GREATEST(subscriptions.current_period_end, EXCLUDED.current_period_end),
       paid_through = GREATEST(subscriptions.paid_through, EXCLUDED.paid_through),
       updated_at = now()`,
    [period.subscriptionId, period.customerId, period.account, period.start, period.end],
  );
}

/**
 * A failed payment makes the subscription past due, unless it is canceled (final) or its stored
 * state comes from an event newer than the failure (a late delivery must not undo it).
 */
export async function markSubscriptionPastDue(db: Db, subscriptionId: string, customerId: string | null, failedAt: Date) {
  await db.query(
    `INSERT INTO subscriptions (id, customer_id, status) VALUES ($1, $2, 'past_due')
     ON CONFLICT (id) DO UPDATE SET status = 'past_due', updated_at = now()
       WHERE subscriptions.status IS DISTINCT FROM 'canceled'
         AND (subscriptions.source_created IS NULL OR subscriptions.source_created <= $3)`,
    [subscriptionId, customerId, failedAt],
  );
}

/** Whether the subscription is known to have ended (canceled, or never started and expired): no state follows those. */
export async function subscriptionEnded(db: Queryable, subscriptionId: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM subscriptions WHERE id = $1 AND status IN ('canceled', 'incomplete_expired')`, [subscriptionId]);
  return rows.length > 0;
}

/** Dunning's final action canceled it through the Stripe API; its own event confirms later. */
export async function markSubscriptionCanceled(db: Db, subscriptionId: string, customerId: string | null) {
  await db.query(
    `INSERT INTO subscriptions (id, customer_id, status) VALUES ($1, $2, 'canceled')
     ON CONFLICT (id) DO UPDATE SET status = 'canceled', updated_at = now()`,
    [subscriptionId, customerId],
  );
}

/**
 * A checkout names the subscription before its own events arrive. A paid checkout's row counts
 * as active until they do; an unpaid one (a delayed payment method) only links the customer,
 * and its later success fills in the status if no event of the subscription has set one.
 */
export async function fillInSubscription(
  db: Queryable,
  subscriptionId: string,
  customerId: string,
  account: string | null,
  status: 'active' | null,
): Promise<void> {
  await db.query(
    `INSERT INTO subscriptions (id, customer_id, account, status) VALUES ($1, $2, $3, $4)
     ON CONFLICT (id) DO UPDATE SET customer_id = coalesce(subscriptions.customer_id, EXCLUDED.customer_id),
                                    status = coalesce(subscriptions.status, EXCLUDED.status)`,
    [subscriptionId, customerId, account, status],
  );
}

export interface StoredSubscriptionState {
  status: string | null;
  tier: string | null;
  source_created: Date | null;
  source_event_id: string | null;
}

/**
 * The stored state, locked until the transaction ends; undefined for a subscription not seen
 * yet. An unseen subscription gets its row inserted first, so that two first events for it queue
 * on one row lock and the second sees the first, instead of both inserting and the later commit
 * winning whatever its age.
 */
export async function lockSubscription(tx: Queryable, subscriptionId: string): Promise<StoredSubscriptionState | undefined> {
  const inserted = await tx.query('INSERT INTO subscriptions (id) VALUES ($1) ON CONFLICT (id) DO NOTHING RETURNING id', [
    subscriptionId,
  ]);
  if (inserted.rowCount === 1) return undefined;
  const { rows } = await tx.query<StoredSubscriptionState>(
    'SELECT status, tier, source_created, source_event_id FROM subscriptions WHERE id = $1 FOR UPDATE',
    [subscriptionId],
  );
  return rows[0];
}

export interface SubscriptionState {
  id: string;
  customerId: string | null;
  account: string | null;
  status: string;
  priceId: string | null;
  tier: string | null;
  cancelAtPeriodEnd: boolean;
  trialEnd: Date | null;
  periodStart: Date | null;
  periodEnd: Date | null;
  sourceCreated: Date;
  sourceEventId: string;
}

/** Writes a subscription event's state; a missing period keeps the one stored. */
export async function writeSubscription(tx: Queryable, state: SubscriptionState): Promise<void> {
  await tx.query(
    `INSERT INTO subscriptions (id, customer_id, account, status, price_id, tier, cancel_at_period_end, trial_end,
                                current_period_start, current_period_end, source_created, source_event_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     ON CONFLICT (id) DO UPDATE SET
       customer_id = EXCLUDED.customer_id, account = EXCLUDED.account, status = EXCLUDED.status,
       price_id = EXCLUDED.price_id, tier = EXCLUDED.tier, cancel_at_period_end = EXCLUDED.cancel_at_period_end,
       trial_end = EXCLUDED.trial_end,
       current_period_start = coalesce(EXCLUDED.current_period_start, subscriptions.current_period_start),
       current_period_end = coalesce(EXCLUDED.current_period_end, subscriptions.current_period_end),
       source_created = EXCLUDED.source_created, source_event_id = EXCLUDED.source_event_id, updated_at = now()`,
    [
      state.id,
      state.customerId,
      state.account,
      state.status,
      state.priceId,
      state.tier,
      state.cancelAtPeriodEnd,
      state.trialEnd,
      state.periodStart,
      state.periodEnd,
      state.sourceCreated,
      state.sourceEventId,
    ],
  );
}

export interface SubscriptionChange {
  subscriptionId: string;
  eventId: string;
  change: string;
  from: string | null;
  to: string | null;
  at: Date;
}

/** The audit log of upgrades, downgrades and status changes, once per event and change. */
export async function recordSubscriptionChange(tx: Queryable, change: SubscriptionChange): Promise<void> {
  await tx.query(
    `INSERT INTO subscription_audit (subscription_id, event_id, change, from_value, to_value, at)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id, change) DO NOTHING`,
    [change.subscriptionId, change.eventId, change.change, change.from, change.to, change.at],
  );
}
