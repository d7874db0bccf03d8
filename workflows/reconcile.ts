import { retryFiveTimes } from './activity-proxies';

/** Run hourly by the `stripe-reconcile` schedule: starts every event Stripe has that we do not. */
export async function reconcileStripeEvents(): Promise<{ listed: number; started: number; failedAccounts: number }> {
  return retryFiveTimes.reconcileEvents();
}
