import type { Config } from '../src/config';
import { withTransaction, type Db } from '../src/db';
import { refreshEntitlements } from '../src/entitlements';
import { idOf, type StripeEvent } from '../src/events';
import { invalidEvent } from '../src/failures';

type Json = Record<string, any>;
type Plans = Pick<Config, 'PLAN_PRICES' | 'PLAN_ENTITLEMENTS'>;


/** Periods sit on the subscription in older API versions and on its items in newer ones. */
function periodOf(subscription: Json): { start: number | null; end: number | null } {
  const item = subscription.items?.data?.[0] ?? {};
  return {
    start: subscription.current_period_start ?? item.current_period_start ?? null,
    end: subscription.current_period_end ?? item.current_period_end ?? null,
  };
}

export function readSubscription(event: StripeEvent) {
  const subscription = event.data.object as Json;
  if (subscription.object !== 'subscription' || typeof subscription.id !== 'string') {
    throw invalidEvent(event, 'data.object is not a subscription');
  }
  const status = event.type === 'customer.subscription.deleted' ? 'canceled' : String(subscription.status);
  return {
    id: subscription.id as string,
    customerId: idOf(subscription.customer),
    status,
    priceId: idOf(subscription.items?.data?.[0]?.price) ?? idOf(subscription.plan),
    cancelAtPeriodEnd: subscription.cancel_at_period_end === true,
    trialEnd: subscription.trial_end ?? null,
    period: periodOf(subscription),
  };
}

const seconds = (value: number | null) => (value === null ? null : new Date(value * 1000));

/**
 * Applies a subscription event unless the stored state came from a newer event (Stripe does
 * not deliver in order), or the subscription is already canceled (a terminal state). Records
 * upgrades, downgrades and status changes, and re-derives the entitlements.
 */
export async function syncSubscription(db: Db, plans: Plans, event: StripeEvent): Promise<void> {
  const next = readSubscription(event);
  const rank = (tier: string | null) => plans.PLAN_PRICES.findIndex((plan) => plan.tier === tier);
  const tier = plans.PLAN_PRICES.find((plan) => next.priceId && plan.prices.includes(next.priceId))?.tier ?? null;
  await withTransaction(db, async (tx) => {
    const { rows } = await tx.query(
      `SELECT status, tier, source_created, source_event_id FROM subscriptions WHERE id = $1 FOR UPDATE`,
      [next.id],
    );
    const stored = rows[0];
    const eventCreated = new Date(event.created * 1000);
    if (stored?.source_created) {
      const newer =
        eventCreated > stored.source_created ||
        (eventCreated.getTime() === stored.source_created.getTime() && event.id > stored.source_event_id);
      if (!newer || stored.status === 'canceled') return;
    }
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
        next.id,
        next.customerId,
        event.account ?? null,
        next.status,
        next.priceId,
        tier,
        next.cancelAtPeriodEnd,
        seconds(next.trialEnd),
        seconds(next.period.start),
        seconds(next.period.end),
        eventCreated,
        event.id,
      ],
    );
    const changes: { change: string; from: string | null; to: string | null }[] = [];
    if (stored && stored.tier !== tier) {
      changes.push({ change: rank(tier) > rank(stored.tier) ? 'upgrade' : 'downgrade', from: stored.tier, to: tier });
    }
    if (!stored || stored.status !== next.status) {
      changes.push({ change: `status:${next.status}`, from: stored?.status ?? null, to: next.status });
    }
    for (const change of changes) {
      await tx.query(
        `INSERT INTO subscription_audit (subscription_id, event_id, change, from_value, to_value, at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id, change) DO NOTHING`,
        [next.id, event.id, change.change, change.from, change.to, eventCreated],
      );
    }
    await refreshEntitlements(tx, next.id, plans.PLAN_ENTITLEMENTS);
  });
}
