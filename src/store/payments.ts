import type { Db, Queryable } from '../platform/db';
import type { EventRefs } from '../platform/stripe-event';
import { readInvoice } from '../platform/invoice';

export interface Payment {
  id: number;
  invoice_id: string;
  invoice_number: string | null;
  customer_id: string | null;
  customer_email: string | null;
  customer_name: string | null;
  subscription_id: string | null;
  charge_id: string | null;
  payment_intent_id: string | null;
  /** What paid it ("VISA •••• 4242"), when known. */
  payment_method: string | null;
  account: string | null;
  amount: number;
  currency: string;
  paid_at: Date;
  invoice: Record<string, any>;
  source_event_id: string;
}

export type NewPayment = Omit<Payment, 'id'>;

/**
 * Every charge that paid a recorded invoice payment: those its invoice names or Stripe announced
 * as its invoice payments, the one found when it was recorded (newer API versions name none in
 * the invoice's payload; Stripe is asked), and the stored charges of its payment intents (a part
 * paid by a payment intent is listed without its charge).
 */
export async function chargesPaying(db: Queryable, payment: Pick<Payment, 'charge_id' | 'payment_intent_id' | 'invoice'>): Promise<string[]> {
  const invoice = readInvoice(payment.invoice);
  const intents = [...new Set([payment.payment_intent_id, ...invoice.paymentIntentIds].filter((id): id is string => id !== null))];
  // One round trip (it runs for every paid invoice): the charges of the intents, with the kept
  // invoice payments' intents and charges.
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM charges
      WHERE payment_intent_id = ANY($1::text[] || ARRAY(SELECT payment_intent_id FROM invoice_payments WHERE invoice_id = $2 AND payment_intent_id IS NOT NULL))
     UNION
     SELECT charge_id FROM invoice_payments WHERE invoice_id = $2 AND charge_id IS NOT NULL`,
    [intents, invoice.id],
  );
  const found = [...invoice.chargeIds, ...(payment.charge_id ? [payment.charge_id] : []), ...rows.map((row) => row.id)];
  return [...new Set(found)].sort();
}

// bigint columns arrive as strings; amounts of minor units fit a JS number.
const columns = `id::int AS id, invoice_id, invoice_number, customer_id, customer_email, customer_name,
  subscription_id, charge_id, payment_intent_id, payment_method, account, amount::float8 AS amount, currency, paid_at,
  invoice, source_event_id`;

/** Records the payment of an invoice once; a second event for the same invoice gets the same row. */
export async function recordPayment(db: Db, payment: NewPayment): Promise<Payment> {
  const { rows } = await db.query<Payment>(
    `INSERT INTO payments (invoice_id, invoice_number, customer_id, customer_email, customer_name,
       subscription_id, charge_id, payment_intent_id, account, amount, currency, paid_at, invoice, source_event_id, payment_method)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
     ON CONFLICT (invoice_id) DO NOTHING
     RETURNING ${columns}`,
    [
      payment.invoice_id,
      payment.invoice_number,
      payment.customer_id,
      payment.customer_email,
      payment.customer_name,
      payment.subscription_id,
      payment.charge_id,
      payment.payment_intent_id,
      payment.account,
      payment.amount,
      payment.currency,
      payment.paid_at,
      payment.invoice,
      payment.source_event_id,
      payment.payment_method,
    ],
  );
  return rows[0] ?? (await paymentOfInvoice(db, payment.invoice_id))!;
}

export async function getPayment(db: Db, id: number): Promise<Payment | undefined> {
  const { rows } = await db.query<Payment>(`SELECT ${columns} FROM payments WHERE id = $1`, [id]);
  return rows[0];
}

/** The payment, which an earlier step recorded; its absence is a bug, not a state. */
export async function requirePayment(db: Db, paymentId: number): Promise<Payment> {
  const payment = await getPayment(db, paymentId);
  if (!payment) throw new Error(`payment ${paymentId} does not exist`);
  return payment;
}

export async function paymentOfInvoice(db: Queryable, invoiceId: string): Promise<Payment | undefined> {
  const { rows } = await db.query<Payment>(`SELECT ${columns} FROM payments WHERE invoice_id = $1`, [invoiceId]);
  return rows[0];
}

export interface PaymentFilter {
  invoice?: string;
  customer?: string;
  limit: number;
  afterId?: number;
}

export async function listPayments(db: Db, filter: PaymentFilter): Promise<(Payment & { documents: string[] })[]> {
  const { rows } = await db.query(
    `SELECT ${columns},
            coalesce((SELECT array_agg(d.number ORDER BY d.kind DESC) FROM documents d WHERE d.payment_id = payments.id), '{}') AS documents
       FROM payments
      WHERE ($1::text IS NULL OR invoice_id = $1)
        AND ($2::text IS NULL OR customer_id = $2)
        AND ($3::bigint IS NULL OR id > $3)
      ORDER BY id
      LIMIT $4`,
    [filter.invoice ?? null, filter.customer ?? null, filter.afterId ?? null, filter.limit],
  );
  return rows;
}

/**
 * A payment made by charge $1 or payment intent $2 (which may be null): the one it records, or a
 * part of an invoice paid in parts, as the invoice's `payments` list names each or Stripe
 * announced it (`invoice_payments`, kept from `invoice_payment.paid`). The listed parts are
 * matched in `invoice_parts`, that list kept in the row, against values built here ($3, $4):
 * matched in the invoice itself, with the values built in SQL for every row, a lookup unpacked
 * every payment's invoice, and PostgreSQL chose that over the indexes up to some thousands of
 * payments (29 ms per lookup at 3,900 payments, 1.2 ms now; migration 021). Each condition has
 * its index (the announced parts' invoices as an array: `IN (subquery)` under OR is no index
 * condition); the queries using it take no LIMIT, with which PostgreSQL's generic plan for a
 * prepared statement would read the whole table, expecting an early match.
 */
const madeByCharge = `charge_id = $1 OR payment_intent_id = $2::text OR invoice_parts @> $3::jsonb OR invoice_parts @> $4::jsonb
  OR invoice_id = ANY(ARRAY(SELECT invoice_id FROM invoice_payments WHERE charge_id = $1 OR payment_intent_id = $2::text))`;

function madeByChargeValues(chargeId: string, paymentIntentId: string | null): (string | null)[] {
  const part = (payment: Record<string, string>) => JSON.stringify([{ payment }]);
  return [chargeId, paymentIntentId, part({ charge: chargeId }), paymentIntentId === null ? null : part({ payment_intent: paymentIntentId })];
}

/** The invoice payment made by a charge (or its payment intent), when one is recorded. */
export async function paymentOfCharge(db: Queryable, chargeId: string, paymentIntentId: string | null): Promise<Payment | undefined> {
  const { rows } = await db.query<Payment>(`SELECT ${columns} FROM payments WHERE ${madeByCharge}`, madeByChargeValues(chargeId, paymentIntentId));
  return rows[0];
}

/** Whose an invoice is, from its recorded payment, else its stored row. Nulls when neither is known. */
export async function ownerOfInvoice(db: Queryable, invoiceId: string): Promise<EventRefs> {
  const { rows } = await db.query<{ customer_id: string | null; subscription_id: string | null }>(
    `SELECT coalesce(p.customer_id, i.customer_id) AS customer_id, p.subscription_id
       FROM (SELECT $1::text AS id) wanted
       LEFT JOIN payments p ON p.invoice_id = wanted.id
       LEFT JOIN invoices i ON i.id = wanted.id`,
    [invoiceId],
  );
  return { customerId: rows[0]?.customer_id ?? null, invoiceId, subscriptionId: rows[0]?.subscription_id ?? null };
}

/**
 * Whose a charge is, from what is stored of it: the invoice payment it (or its payment intent,
 * when the caller knows it) made, else the charge's own row. Nulls when neither is known.
 */
export async function ownerOfCharge(db: Queryable, chargeId: string, paymentIntentId: string | null = null): Promise<EventRefs> {
  const { rows } = await db.query<{ customer_id: string | null; invoice_id: string | null; subscription_id: string | null }>(
    `SELECT coalesce(p.customer_id, c.customer_id) AS customer_id, p.invoice_id, p.subscription_id
       FROM (SELECT $1::text AS id) wanted
       LEFT JOIN LATERAL (SELECT customer_id, invoice_id, subscription_id FROM payments WHERE ${madeByCharge}) p ON true
       LEFT JOIN charges c ON c.id = wanted.id`,
    madeByChargeValues(chargeId, paymentIntentId),
  );
  const owner = rows[0];
  return { customerId: owner?.customer_id ?? null, invoiceId: owner?.invoice_id ?? null, subscriptionId: owner?.subscription_id ?? null };
}
