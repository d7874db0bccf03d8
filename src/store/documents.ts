import { withTransaction, type Db } from '../platform/db';
import type { DocumentKind } from '../platform/pdf';

const prefixes: Record<DocumentKind, string> = { receipt: 'R', invoice: 'INV' };

/**
 * `R-2026-000001`; a connected account's documents are numbered in a series of their own, so its
 * number carries the account (`acct_123-R-2026-000001`) and stays unique across accounts.
 */
export function documentNumber(kind: DocumentKind, year: number, sequence: number, connectedAccount: string | null): string {
  const number = `${prefixes[kind]}-${year}-${String(sequence).padStart(6, '0')}`;
  return connectedAccount ? `${connectedAccount}-${number}` : number;
}

export interface StoredDocument {
  number: string;
  kind: DocumentKind;
}

/**
 * Gives the payment its two document numbers, once. A number comes from its per-account, per-year counter in
 * the same transaction that inserts the document row, so numbers have no gaps (nothing rolls
 * back after the commit) and no duplicates (the counter row is locked until commit). The PDF is
 * not part of it: rendering outside the lock keeps concurrent payments from queueing behind one
 * renderer. The payment row is locked first, so two events of one payment number it once.
 */
export async function numberDocuments(db: Db, paymentId: number, year: number): Promise<(StoredDocument & { rendered: boolean })[]> {
  return withTransaction(db, async (tx) => {
    const { rows: payments } = await tx.query<{ account: string | null }>('SELECT account FROM payments WHERE id = $1 FOR UPDATE', [paymentId]);
    const connectedAccount = payments[0]?.account ?? null;
    const { rows: existing } = await tx.query<StoredDocument & { rendered: boolean }>(
      'SELECT number, kind, pdf IS NOT NULL AS rendered FROM documents WHERE payment_id = $1',
      [paymentId],
    );
    const documents = [...existing];
    // Always receipt before invoice, so concurrent transactions lock counters in one order.
    for (const kind of ['receipt', 'invoice'] as const) {
      if (existing.some((document) => document.kind === kind)) continue;
      const { rows } = await tx.query<{ last_number: number }>(
        `INSERT INTO document_counters (account, kind, year, last_number) VALUES ($1, $2, $3, 1)
         ON CONFLICT (account, kind, year) DO UPDATE SET last_number = document_counters.last_number + 1
         RETURNING last_number`,
        [connectedAccount ?? '', kind, year],
      );
      const sequence = rows[0].last_number;
      const number = documentNumber(kind, year, sequence, connectedAccount);
      await tx.query('INSERT INTO documents (number, account, kind, year, sequence, payment_id) VALUES ($1, $2, $3, $4, $5, $6)', [
        number,
        connectedAccount ?? '',
        kind,
        year,
        sequence,
        paymentId,
      ]);
      documents.push({ number, kind, rendered: false });
    }
    return documents.sort((a, b) => a.kind.localeCompare(b.kind)).reverse();
  });
}

/** Stores a numbered document's PDF unless a concurrent render stored one first. */
export async function storeDocumentPdf(db: Db, number: string, pdf: Buffer): Promise<void> {
  await db.query('UPDATE documents SET pdf = $2 WHERE number = $1 AND pdf IS NULL', [number, pdf]);
}

/** The payment's rendered documents (a document still being rendered is not among them). */
export async function documentsOfPayment(db: Db, paymentId: number): Promise<(StoredDocument & { pdf: Buffer })[]> {
  const { rows } = await db.query(
    'SELECT number, kind, pdf FROM documents WHERE payment_id = $1 AND pdf IS NOT NULL ORDER BY kind DESC',
    [paymentId],
  );
  return rows;
}

export async function getDocument(db: Db, number: string): Promise<{ number: string; pdf: Buffer } | undefined> {
  const { rows } = await db.query('SELECT number, pdf FROM documents WHERE number = $1 AND pdf IS NOT NULL', [number]);
  return rows[0];
}
