import type { Queryable } from '../platform/db';
import type { Json } from '../platform/stripe-event';
import { taxOfCredited, type CreditNoteFacts } from '../platform/credit-note';

/** Keeps a credit note's amounts (they never change once issued); a void one stays void. */
export async function keepCreditNote(db: Queryable, note: CreditNoteFacts): Promise<void> {
  await db.query(
    `INSERT INTO credit_notes (id, invoice_id, currency, amount, tax, refunded, voided) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (id) DO UPDATE SET voided = credit_notes.voided OR EXCLUDED.voided`,
    [note.id, note.invoiceId, note.currency, note.amount, note.tax, note.refunded, note.status === 'void'],
  );
}

/** What an invoice's credit notes (those not void) credit, tax included, and of it by refund. */
export interface CreditedByNotes {
  amount: number;
  tax: number;
  refunded: number;
  /** The notes' tax on their refund parts. */
  refundedTax: number;
}

export async function creditedByNotes(db: Queryable, invoiceId: string, currency: string): Promise<CreditedByNotes> {
  const { rows } = await db.query<{ amount: number; tax: number; refunded: number }>(
    'SELECT amount::float8 AS amount, tax::float8 AS tax, refunded::float8 AS refunded FROM credit_notes WHERE invoice_id = $1 AND currency = $2 AND NOT voided',
    [invoiceId, currency],
  );
  return rows.reduce<CreditedByNotes>(
    (sum, note) => ({
      amount: sum.amount + note.amount,
      tax: sum.tax + note.tax,
      refunded: sum.refunded + note.refunded,
      refundedTax: sum.refundedTax + note.tax - taxOfCredited(note),
    }),
    { amount: 0, tax: 0, refunded: 0, refundedTax: 0 },
  );
}

/** Whom a credit note credits and on which invoice, as the books know them. */
export interface CreditNoteParties {
  customerId: string | null;
  name: string | null;
  email: string | null;
  /** Stripe's address object, as the invoice or the customer carries it. */
  address: Json | null;
  invoiceNumber: string | null;
  /** The invoice as its payment recorded it, when it was paid. */
  invoice: Json | null;
}

/**
 * A credit note names its invoice and customer only: the names and email come from the invoice's
 * recorded payment (what the customer was billed as), else from the customer as Stripe last
 * described it.
 */
export async function creditNoteParties(db: Queryable, invoiceId: string, customerId: string | null): Promise<CreditNoteParties> {
  const { rows } = await db.query<CreditNoteParties>(
    `SELECT coalesce(p.customer_id, wanted.customer_id) AS "customerId",
            coalesce(p.customer_name, c.name) AS name, coalesce(p.customer_email, c.email) AS email,
            coalesce(p.invoice->'customer_address', c.address) AS address,
            coalesce(p.invoice_number, i.number) AS "invoiceNumber", p.invoice
       FROM (SELECT $1::text AS invoice_id, $2::text AS customer_id) wanted
       LEFT JOIN payments p ON p.invoice_id = wanted.invoice_id
       LEFT JOIN invoices i ON i.id = wanted.invoice_id
       LEFT JOIN customers c ON c.id = coalesce(p.customer_id, wanted.customer_id)`,
    [invoiceId, customerId],
  );
  return rows[0];
}
