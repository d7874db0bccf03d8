import type { Db } from './db';

export interface CustomerView {
  id: string;
  email: string | null;
  name: string | null;
  deleted: boolean;
  subscriptions: { id: string; status: string | null; tier: string | null; current_period_end: Date | null; paid_through: Date | null }[];
  entitlements: { entitlement: string; active: boolean; subscription_id: string }[];
  audit_log: { subscription_id: string; change: string; from_value: string | null; to_value: string | null; at: Date }[];
  dunning_cases: {
    invoice_id: string;
    status: string;
    stage: string | null;
    next_step_at: Date | null;
    amount: number;
    currency: string;
    started_at: Date;
    ended_at: Date | null;
  }[];
}

/** Everything known about a customer, or undefined when no row mentions them. */
export async function customerView(db: Db, customerId: string): Promise<CustomerView | undefined> {
  const [customer, subscriptions, dunningCases, entitlements, auditLog] = await Promise.all([
    db.query('SELECT id, email, name, deleted FROM customers WHERE id = $1', [customerId]),
    db.query(
      'SELECT id, status, tier, current_period_end, paid_through FROM subscriptions WHERE customer_id = $1 ORDER BY id',
      [customerId],
    ),
    db.query(
      `SELECT invoice_id, status, stage, next_step_at, amount::float8 AS amount, currency, started_at, ended_at
         FROM dunning_cases WHERE customer_id = $1 ORDER BY (status = 'open') DESC, started_at DESC`,
      [customerId],
    ),
    db.query(
      'SELECT entitlement, active, subscription_id FROM entitlements WHERE customer_id = $1 ORDER BY entitlement',
      [customerId],
    ),
    db.query(
      `SELECT a.subscription_id, a.change, a.from_value, a.to_value, a.at FROM subscription_audit a
         JOIN subscriptions s ON s.id = a.subscription_id WHERE s.customer_id = $1 ORDER BY a.id`,
      [customerId],
    ),
  ]);
  if (customer.rows.length === 0 && subscriptions.rows.length === 0 && dunningCases.rows.length === 0) return undefined;
  const row = customer.rows[0] ?? { id: customerId, email: null, name: null, deleted: false };
  return {
    ...row,
    subscriptions: subscriptions.rows,
    entitlements: entitlements.rows,
    audit_log: auditLog.rows,
    dunning_cases: dunningCases.rows,
  };
}
