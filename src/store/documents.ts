import { withTransaction, type Db } from '../platform/db';
import type { DocumentKind } from '../platform/pdf';

const prefixes: Record<DocumentKind, string> = { receipt: 'R', invoice: 'INV' };

export function documentNumber(kind: DocumentKind, year: number, sequence: number): string {
  return `${prefixes[kind]}-${year}-${String(sequence).padStart(6, '0')}`;
}

export interface StoredDocument {
  number: string;
  kind: DocumentKind;
}

/**
 * Creates the payment's missing documents. A number is taken from its per-year counter in the
 * same transaction that stores the document, so numbers have no gaps (a failed render gives
 * the number back) and no duplicates (the counter row is locked until commit). The payment row
 * is locked first, so two events of one payment create its documents once.
 */
export async function createDocuments(
  db: Db,
  paymentId: number,
  year: number,
  render: (kind: DocumentKind, number: string) => Promise<Buffer>,
): Promise<StoredDocument[]> {
  return withTransaction(db, async (tx) => {
    await tx.query('SELECT id FROM payments WHERE id = $1 FOR UPDATE', [paymentId]);
    const { rows: existing } = await tx.query<StoredDocument>(
      'SELECT number, kind FROM documents WHERE payment_id = $1',
      [paymentId],
    );
    const documents = [...existing];
    // Always receipt before invoice, so concurrent transactions lock counters in one order.
    for (const kind of ['receipt', 'invoice'] as const) {
      if (existing.some((document) => document.kind === kind)) continue;
      const { rows } = await tx.query<{ last_number: number }>(
        `INSERT INTO document_counters (kind, year, last_number) VALUES ($1, $2, 1)
         ON CONFLICT (kind, year) DO UPDATE SET last_number = document_counters.last_number + 1
         RETURNING last_number`,
        [kind, year],
      );
      const sequence = rows[0].last_number;
      const number = documentNumber(kind, year, sequence);
      const pdf = await render(kind, number);
      await tx.query(
        'INSERT INTO documents (number, kind, year, sequence, payment_id, pdf) VALUES ($1, $2, $3, $4, $5, $6)',
        [number, kind, year, sequence, paymentId, pdf],
      );
      documents.push({ number, kind });
    }
    return documents.sort((a, b) => a.kind.localeCompare(b.kind)).reverse();
  });
}

export async function documentsOfPayment(db: Db, paymentId: number): Promise<(StoredDocument & { pdf: Buffer })[]> {
  const { rows } = await db.query(
    'SELECT number, kind, pdf FROM documents WHERE payment_id = $1 ORDER BY kind DESC',
    [paymentId],
  );
  return rows;
}

export async function getDocument(db: Db, number: string): Promise<{ number: string; pdf: Buffer } | undefined> {
  const { rows } = await db.query('SELECT number, pdf FROM documents WHERE number = $1', [number]);
  return rows[0];
}
