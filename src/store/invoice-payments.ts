import type { Queryable } from '../platform/db';
import type { InvoicePaymentFacts } from '../platform/invoice';
import type { Json } from '../platform/stripe-event';

/** Keeps an invoice payment as Stripe announced it; a newer announcement of it replaces the older. */
export async function keepInvoicePayment(db: Queryable, part: InvoicePaymentFacts): Promise<void> {
  await db.query(
    `INSERT INTO invoice_payments (id, invoice_id, payment_intent_id, charge_id, object) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (id) DO UPDATE SET object = EXCLUDED.object, charge_id = coalesce(EXCLUDED.charge_id, invoice_payments.charge_id)`,
    [part.id, part.invoiceId, part.paymentIntentId, part.chargeId, part.object],
  );
}

/**
 * The invoice with the payments kept of it beside those its payload lists (webhook payloads list
 * none: `payments` is expand-only), so that what paid each part is read the same way either way.
 */
export async function withKeptPayments(db: Queryable, invoice: Json): Promise<Json> {
  const { rows } = await db.query<{ object: Json }>('SELECT object FROM invoice_payments WHERE invoice_id = $1 ORDER BY id', [invoice.id]);
  const listed: Json[] = Array.isArray(invoice.payments?.data) ? invoice.payments.data : [];
  const kept = rows.map((row) => row.object).filter((part) => !listed.some((known) => known.id === part.id));
  if (kept.length === 0) return invoice;
  return { ...invoice, payments: { object: 'list', has_more: false, ...invoice.payments, data: [...listed, ...kept] } };
}

/** Whether a kept invoice payment names this payment intent. */
export async function paysAnInvoice(db: Queryable, paymentIntentId: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM invoice_payments WHERE payment_intent_id = $1', [paymentIntentId]);
  return rows.length > 0;
}
