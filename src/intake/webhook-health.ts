import type { Db } from '../platform/db';
import { deliveryOutcomes } from '../store/deliveries';

export type WebhookHealthStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface WebhookHealth {
  status: WebhookHealthStatus;
  window: '24h';
  deliveries: number;
  failures: number;
  failure_rate: number;
  /** Count per outcome (accepted, duplicate, signature_invalid, unavailable, …). */
  outcomes: Record<string, number>;
}

/** Over 10 % of deliveries failing is degraded, over 20 % unhealthy. */
export function healthOf(deliveries: number, failures: number): WebhookHealthStatus {
  const rate = deliveries === 0 ? 0 : failures / deliveries;
  if (rate > 0.2) return 'unhealthy';
  if (rate > 0.1) return 'degraded';
  return 'healthy';
}

/** From the delivery log of the last 24 hours: every request that carried a Stripe-Signature. */
export async function webhookHealth(db: Db): Promise<WebhookHealth> {
  const rows = await deliveryOutcomes(db, 24);
  const deliveries = rows.reduce((sum, row) => sum + row.count, 0);
  const failures = rows.filter((row) => row.failed).reduce((sum, row) => sum + row.count, 0);
  return {
    status: healthOf(deliveries, failures),
    window: '24h',
    deliveries,
    failures,
    failure_rate: deliveries === 0 ? 0 : failures / deliveries,
    outcomes: Object.fromEntries(rows.map((row) => [row.outcome, row.count])),
  };
}
