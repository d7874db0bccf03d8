import type { ActivityDependencies } from './dependencies';

export function reconcileActivities(deps: ActivityDependencies) {
  return {
    /** Run by the hourly schedule: accepts every event Stripe lists that we do not have. */
    async reconcileEvents(): Promise<{ listed: number; started: number; failedAccounts: number }> {
      if (!deps.reconcile) {
        deps.log.warn('reconcile skipped: STRIPE_SECRET_KEY is not set');
        return { listed: 0, started: 0, failedAccounts: 0 };
      }
      return deps.reconcile();
    },
  };
}
