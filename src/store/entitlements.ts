import type { PoolClient } from 'pg';
import { withTransaction, type Db } from '../platform/db';

/** Statuses that keep access: `past_due` too, while dunning tries to collect. */
export const grantingStatuses = new Set(['active', 'trialing', 'past_due']);

/**
 * Derives a subscription's entitlements from its status, tier and dunning state, and announces
 * any change with `NOTIFY entitlements_changed, '<customer id>'` (delivered at commit).
 */
export async function refreshEntitlements(
  tx: PoolClient,
  subscriptionId: string,
  planEntitlements: Record<string, string[]>,
): Promise<void> {
  const { rows } = await tx.query(
    'SELECT customer_id, status, tier, access_revoked_at FROM subscriptions WHERE id = $1',
    [subscriptionId],
  );
  const subscription = rows[0];
  if (!subscription?.customer_id) return;
  const active = grantingStatuses.has(subscription.status) && subscription.access_revoked_at === null;
  const wanted: string[] = planEntitlements[subscription.tier] ?? [];
  const granted = await tx.query(
    `INSERT INTO entitlements (subscription_id, customer_id, entitlement, active)
     SELECT $1, $2, unnest($3::text[]), $4
     ON CONFLICT (subscription_id, entitlement) DO UPDATE SET active = EXCLUDED.active, updated_at = now()
       WHERE entitlements.active IS DISTINCT FROM EXCLUDED.active`,
    [subscriptionId, subscription.customer_id, wanted, active],
  );
  const dropped = await tx.query(
    `UPDATE entitlements SET active = false, updated_at = now()
      WHERE subscription_id = $1 AND active AND NOT (entitlement = ANY($2::text[]))`,
    [subscriptionId, wanted],
  );
  if ((granted.rowCount ?? 0) + (dropped.rowCount ?? 0) > 0) {
    await tx.query(`SELECT pg_notify('entitlements_changed', $1)`, [subscription.customer_id]);
  }
}

/** Dunning ran out: the subscription loses its entitlements until its invoices are paid. */
export async function revokeAccess(db: Db, subscriptionId: string, planEntitlements: Record<string, string[]>): Promise<void> {
  await withTransaction(db, async (tx) => {
    // Only a change of the flag can change the entitlements.
    const { rowCount } = await tx.query(
      'UPDATE subscriptions SET access_revoked_at = now() WHERE id = $1 AND access_revoked_at IS NULL',
      [subscriptionId],
    );
    if (rowCount === 1) await refreshEntitlements(tx, subscriptionId, planEntitlements);
  });
}

/**
 * A payment restores access an exhausted dunning revoked, unless the dunning of another invoice
 * of the subscription also ran out and that invoice is still unpaid: each revocation is lifted
 * by paying its own invoice.
 */
export async function restoreAccessAfterPayment(db: Db, subscriptionId: string, planEntitlements: Record<string, string[]>): Promise<void> {
  // Almost every payment finds access intact, and one read says so without a transaction. It sees
  // what the UPDATE below would: a revocation not committed yet is missed by both alike.
  const { rowCount } = await db.query('SELECT 1 FROM subscriptions WHERE id = $1 AND access_revoked_at IS NOT NULL', [subscriptionId]);
  if (rowCount === 0) return;
  await withTransaction(db, async (tx) => {
    const { rowCount } = await tx.query(
      `UPDATE subscriptions s SET access_revoked_at = NULL
        WHERE s.id = $1 AND s.access_revoked_at IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM dunning_cases d
                           WHERE d.subscription_id = s.id AND d.status = 'exhausted'
                             AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.invoice_id = d.invoice_id))`,
      [subscriptionId],
    );
    if (rowCount === 1) await refreshEntitlements(tx, subscriptionId, planEntitlements);
  });
}
