import type { Queryable } from '../platform/db';
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
