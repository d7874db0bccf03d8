import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

const { reconcileEvents } = proxyActivities<Activities>({
  // Listing a long outage's events from Stripe can take a while; each start inside is idempotent.
  startToCloseTimeout: '15 minutes',
  retry: { initialInterval: '10 seconds', maximumInterval: '5 minutes', maximumAttempts: 5 },
});

/** Run hourly by the `stripe-reconcile` schedule: starts every event Stripe has that we do not. */
export async function reconcileStripeEvents(): Promise<{ listed: number; started: number }> {
  return reconcileEvents();
}
