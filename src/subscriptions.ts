import type { Db } from './db';

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
