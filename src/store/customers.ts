import type { Db, Queryable } from '../platform/db';

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
    /** `payment_failed`, or `overdue` (an invoice the customer pays by themselves, past its due date). */
    opened_by: string;
    status: string;
    stage: string | null;
    next_step_at: Date | null;
    amount: number;
    currency: string;
    started_at: Date;
    ended_at: Date | null;
    /** Why an operator stopped it. */
    ended_reason: string | null;
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
      `SELECT invoice_id, opened_by, status, stage, next_step_at, amount::float8 AS amount, currency, started_at, ended_at, ended_reason
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


export interface CustomerRow {
  id: string;
  account: string | null;
  email: string | null;
  name: string | null;
  phone: string | null;
  address: unknown;
  deleted: boolean;
  /** Unix seconds of the event that carried this state, and its id: newer events win. */
  sourceCreated: number;
  sourceEventId: string;
}

/**
 * Writes a customer event's state unless the stored row was changed by a newer event: when the
 * event is newer by its time, or, given `over`, when the stored state came from that event of the
 * same second (a tie settled by `storeLatest`).
 */
export async function upsertCustomer(db: Queryable, row: CustomerRow, over?: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO customers (id, account, email, name, phone, address, deleted, source_created, source_event_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8), $9)
     ON CONFLICT (id) DO UPDATE SET
       account = EXCLUDED.account, email = EXCLUDED.email, name = EXCLUDED.name,
       phone = EXCLUDED.phone, address = EXCLUDED.address, deleted = EXCLUDED.deleted,
       source_created = EXCLUDED.source_created, source_event_id = EXCLUDED.source_event_id,
       updated_at = now()
     WHERE customers.source_created < EXCLUDED.source_created
        OR (customers.source_created = EXCLUDED.source_created AND customers.source_event_id = $10)`,
    [row.id, row.account, row.email, row.name, row.phone, row.address, row.deleted, row.sourceCreated, row.sourceEventId, over ?? null],
  );
  return rowCount === 1;
}

/**
 * What a checkout or a lookup learnt about a customer fills in only what is missing: customer
 * events are the authority. Returns the customer's email as stored afterwards (`storedCustomerEmail`).
 */
export async function fillInCustomer(db: Queryable, row: Omit<CustomerRow, 'deleted'>): Promise<string | null> {
  const { rows } = await db.query<{ email: string | null }>(
    `INSERT INTO customers (id, account, email, name, phone, address, source_created, source_event_id)
     VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7), $8)
     ON CONFLICT (id) DO UPDATE SET
       email = coalesce(customers.email, EXCLUDED.email), name = coalesce(customers.name, EXCLUDED.name),
       phone = coalesce(customers.phone, EXCLUDED.phone), address = coalesce(customers.address, EXCLUDED.address)
     RETURNING CASE WHEN deleted THEN NULL ELSE email END AS email`,
    [row.id, row.account, row.email, row.name, row.phone, row.address, row.sourceCreated, row.sourceEventId],
  );
  return rows[0].email;
}

/**
 * A customer's email as we know it: null for one deleted or described without an email;
 * undefined for one nothing described.
 */
export async function storedCustomerEmail(db: Queryable, customerId: string): Promise<string | null | undefined> {
  const { rows } = await db.query<{ email: string | null }>('SELECT CASE WHEN deleted THEN NULL ELSE email END AS email FROM customers WHERE id = $1', [customerId]);
  return rows[0] ? rows[0].email : undefined;
}

export async function setDefaultPaymentMethod(db: Queryable, customerId: string, paymentMethodId: string): Promise<void> {
  await db.query('UPDATE customers SET default_payment_method = $2 WHERE id = $1', [customerId, paymentMethodId]);
}

/** A detached payment method stops being anyone's default. */
export async function clearDefaultPaymentMethod(db: Queryable, paymentMethodId: string): Promise<void> {
  await db.query('UPDATE customers SET default_payment_method = NULL WHERE default_payment_method = $1', [paymentMethodId]);
}

/**
 * The email a customer event newer than `since` gave the customer: an address changed after an
 * object (an invoice) copied the old one. Undefined when no such event did, or it deleted the
 * customer or left them without an email.
 */
export async function customerEmailSince(db: Queryable, customerId: string, since: Date): Promise<string | undefined> {
  const { rows } = await db.query<{ email: string }>(
    'SELECT email FROM customers WHERE id = $1 AND NOT deleted AND email IS NOT NULL AND source_created > $2',
    [customerId, since],
  );
  return rows[0]?.email;
}
