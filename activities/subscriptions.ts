import type { Config } from '../src/platform/config';
import { withTransaction, type Db } from '../src/platform/db';
import { refreshEntitlements } from '../src/store/entitlements';
import { idOf, type StripeEvent, type Json } from '../src/platform/stripe-event';
import { invalidEvent } from '../workflows/contracts';

import { loadEventPayload } from '../src/store/events';
import { lockSubscription, recordSubscriptionChange, writeSubscription } from '../src/store/subscriptions';
import { objectSource } from '../src/store/objects';
import { currentObjectOnTie, winsTie } from './same-second';
import type Stripe from 'stripe';
import type { ActivityDependencies } from './dependencies';

type Plans = Pick<Config, 'PLAN_PRICES' | 'PLAN_ENTITLEMENTS'>;

/** Periods sit on the subscription in older API versions and on its items in newer ones. */
function periodOf(subscription: Json): { start: number | null; end: number | null } {
  const item = subscription.items?.data?.[0] ?? {};
  return {
    start: subscription.current_period_start ?? item.current_period_start ?? null,
    end: subscription.current_period_end ?? item.current_period_end ?? null,
  };
}

function readSubscription(event: StripeEvent) {
  const subscription = event.data.object as Json;
  if (subscription.object !== 'subscription' || typeof subscription.id !== 'string') {
    throw invalidEvent(event, 'data.object is not a subscription');
  }
  const status = event.type === 'customer.subscription.deleted' ? 'canceled' : String(subscription.status);
  return {
    id: subscription.id as string,
    customerId: idOf(subscription.customer),
    status,
    /** Every item's price (older versions also name one `plan`): a plan may sit beside add-ons. */
    priceIds: [...(subscription.items?.data ?? []).map((item: Json) => idOf(item?.price)), idOf(subscription.plan)].filter(
      (id): id is string => typeof id === 'string',
    ),
    cancelAtPeriodEnd: subscription.cancel_at_period_end === true,
    trialEnd: subscription.trial_end ?? null,
    period: periodOf(subscription),
  };
}

/**
 * The subscription's tier: the highest in `PLAN_PRICES` among its items' prices (add-ons beside
 * the plan have none), and the price that gives it, else the first item's price.
 */
function planOf(plans: Plans, priceIds: string[]): { tier: string | null; priceId: string | null } {
  for (const plan of [...plans.PLAN_PRICES].reverse()) {
    const priceId = priceIds.find((id) => plan.prices.includes(id));
    if (priceId) return { tier: plan.tier, priceId };
  }
  return { tier: null, priceId: priceIds[0] ?? null };
}

const seconds = (value: number | null) => (value === null ? null : new Date(value * 1000));

/**
 * Applies a subscription event unless the stored state came from a newer event (Stripe does
 * not deliver in order; two of one second are ordered by Stripe's state with a key, else by the
 * events, `winsTie`, decided under the row's lock), or the subscription is already canceled (a
 * terminal state). Records upgrades, downgrades and status changes, and re-derives the
 * entitlements.
 */
async function syncSubscription(db: Db, plans: Plans, payloadEvent: StripeEvent, stripe: Stripe | undefined): Promise<void> {
  const id = readSubscription(payloadEvent).id;
  // Read outside the transaction: no lock is held while Stripe is asked.
  const current = await currentObjectOnTie(stripe, payloadEvent, await objectSource(db, 'subscriptions', id), (client, _, options) =>
    client.subscriptions.retrieve(id, {}, options),
  );
  const event = current ?? payloadEvent;
  const next = readSubscription(event);
  const rank = (tier: string | null) => plans.PLAN_PRICES.findIndex((plan) => plan.tier === tier);
  const { tier, priceId } = planOf(plans, next.priceIds);
  await withTransaction(db, async (tx) => {
    const stored = await lockSubscription(tx, next.id);
    const eventCreated = new Date(event.created * 1000);
    if (stored?.source_created) {
      const sameSecond = eventCreated.getTime() === stored.source_created.getTime();
      const newer = eventCreated > stored.source_created || (sameSecond && (current !== undefined || (await winsTie(tx, event, stored.source_event_id!))));
      if (!newer || stored.status === 'canceled') return;
    }
    await writeSubscription(tx, {
      id: next.id,
      customerId: next.customerId,
      account: event.account ?? null,
      status: next.status,
      priceId,
      tier,
      cancelAtPeriodEnd: next.cancelAtPeriodEnd,
      trialEnd: seconds(next.trialEnd),
      periodStart: seconds(next.period.start),
      periodEnd: seconds(next.period.end),
      sourceCreated: eventCreated,
      sourceEventId: event.id,
    });
    const changes: { change: string; from: string | null; to: string | null }[] = [];
    if (stored && stored.tier !== tier) {
      changes.push({ change: rank(tier) > rank(stored.tier) ? 'upgrade' : 'downgrade', from: stored.tier, to: tier });
    }
    if (!stored || stored.status !== next.status) {
      changes.push({ change: `status:${next.status}`, from: stored?.status ?? null, to: next.status });
    }
    for (const change of changes) {
      await recordSubscriptionChange(tx, { subscriptionId: next.id, eventId: event.id, ...change, at: eventCreated });
    }
    await refreshEntitlements(tx, next.id, plans.PLAN_ENTITLEMENTS);
  });
}

export function subscriptionActivities({ db, config, stripe }: ActivityDependencies) {
  return {
    async syncSubscription(eventId: string): Promise<void> {
      await syncSubscription(db, config, await loadEventPayload(db, eventId), stripe);
    },
  };
}
