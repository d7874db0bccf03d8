import { withTransaction, type Db, type Queryable } from '../platform/db';
import type { DocumentKind } from '../platform/pdf';

export interface StoredDocument {
  number: string;
  kind: DocumentKind;
}

/**
 * A document's number in SQL, from its series (account, prefix, year) and the counter's
 * `last_number`: `R-2026-000001`, `acct_123-CN-2026-000001`; six digits at least.
 */
const documentNumber = (account: string, prefix: string, year: string) =>
  `concat(nullif(${account}, '') || '-', ${prefix}, '-', ${year}::int, '-', lpad(last_number::text, greatest(6, length(last_number::text)), '0'))`;

/**
 * Gives the payment its two document numbers, once: `R-2026-000001` and `INV-2026-000001`; a
 * connected account's documents are numbered in a series of their own, so its numbers carry the
 * account (`acct_123-R-2026-000001`) and stay unique across accounts.
 *
 * A number comes from its per-account, per-year counter in the same transaction that inserts the
 * document row, so numbers have no gaps (nothing rolls back after the commit) and no duplicates
 * (the counter row is locked until commit). Every payment of the year goes through the same two
 * counter rows, so the lock is held for one statement and the commit only: both counters and both
 * documents in one statement, not a round trip each (which a busy worker stretched into a queue).
 * The payment row is locked first, so two events of one payment number it once. The PDF is not
 * part of it: it is rendered after the commit.
 */
export async function numberDocuments(db: Db, paymentId: number, year: number): Promise<(StoredDocument & { rendered: boolean })[]> {
  return withTransaction(db, async (tx) => {
    const { rows: payments } = await tx.query<{ account: string }>(`SELECT coalesce(account, '') AS account FROM payments WHERE id = $1 FOR UPDATE`, [paymentId]);
    // A fresh snapshot, taken once the payment is locked: documents a concurrent run committed are seen.
    const { rows } = await tx.query<StoredDocument & { rendered: boolean }>(
      `WITH missing AS (
         SELECT kind, ord FROM unnest(ARRAY['receipt', 'invoice']) WITH ORDINALITY AS k(kind, ord)
          WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.payment_id = $1 AND d.kind = k.kind)),
       counted AS (
         -- Always receipt before invoice, so concurrent transactions lock counters in one order.
         INSERT INTO document_counters (account, kind, year, last_number)
         SELECT $2, kind, $3, 1 FROM missing ORDER BY ord
         ON CONFLICT (account, kind, year) DO UPDATE SET last_number = document_counters.last_number + 1
         RETURNING kind, last_number),
       inserted AS (
         INSERT INTO documents (number, account, kind, year, sequence, payment_id)
         SELECT ${documentNumber('$2', "CASE kind WHEN 'receipt' THEN 'R' ELSE 'INV' END", '$3')},
                $2, kind, $3, last_number, $1
           FROM counted
         RETURNING number, kind, false AS rendered)
       SELECT number, kind, rendered FROM inserted
       UNION ALL
       SELECT number, kind, pdf IS NOT NULL FROM documents WHERE payment_id = $1
       ORDER BY kind DESC`,
      [paymentId, payments[0]?.account ?? '', year],
    );
    return rows;
  });
}

const creditNoteLock = (tx: Queryable, creditNoteId: string) =>
  tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`credit_note_document:${creditNoteId}`]);

/**
 * Gives a credit note its document number, once: `CN-2026-000001` (a connected account's carry the
 * account, as its receipts do); none for a note the books hold void. The counter and the row are
 * written in one statement, so numbers have no gaps; the credit note's own lock, taken first, makes
 * two runs of one credit note number it once (the second finds the first's row once the lock is
 * its), and orders the numbering with the note's void (`creditNoteDocumentToVoid`).
 */
export async function numberCreditNoteDocument(
  db: Db,
  note: { creditNoteId: string; account: string | null; year: number; eventId: string },
): Promise<{ number: string; rendered: boolean } | null> {
  return withTransaction(db, async (tx) => {
    await creditNoteLock(tx, note.creditNoteId);
    const { rows: numbered } = await tx.query<{ number: string; rendered: boolean }>(
      'SELECT number, pdf IS NOT NULL AS rendered FROM documents WHERE credit_note_id = $1',
      [note.creditNoteId],
    );
    if (numbered[0]) return numbered[0];
    const { rows: voided } = await tx.query('SELECT 1 FROM credit_notes WHERE id = $1 AND voided', [note.creditNoteId]);
    if (voided.length > 0) return null;
    const { rows } = await tx.query<{ number: string; rendered: boolean }>(
      `WITH counted AS (
         INSERT INTO document_counters (account, kind, year, last_number) VALUES ($2, 'credit_note', $3, 1)
         ON CONFLICT (account, kind, year) DO UPDATE SET last_number = document_counters.last_number + 1
         RETURNING last_number)
       INSERT INTO documents (number, account, kind, year, sequence, credit_note_id, source_event_id)
       SELECT ${documentNumber('$2', "'CN'", '$3')},
              $2, 'credit_note', $3, last_number, $1, $4
         FROM counted
       RETURNING number, false AS rendered`,
      [note.creditNoteId, note.account ?? '', note.year, note.eventId],
    );
    return rows[0];
  });
}

/**
 * The number of a voided credit note's document, when one was issued; asked after the void is
 * in the books, under the note's lock: a document numbered at the same time is either seen here
 * or was never numbered (its numbering saw the void).
 */
export async function creditNoteDocumentToVoid(db: Db, creditNoteId: string): Promise<string | null> {
  return withTransaction(db, async (tx) => {
    await creditNoteLock(tx, creditNoteId);
    const { rows } = await tx.query<{ number: string }>('SELECT number FROM documents WHERE credit_note_id = $1', [creditNoteId]);
    return rows[0]?.number ?? null;
  });
}

/** A credit note's document, once rendered, and whether its note has been voided since it was numbered. */
export async function documentOfCreditNote(db: Db, creditNoteId: string): Promise<{ number: string; pdf: Buffer; voided: boolean } | undefined> {
  const { rows } = await db.query(
    `SELECT d.number, d.pdf, coalesce(n.voided, false) AS voided
       FROM documents d LEFT JOIN credit_notes n ON n.id = d.credit_note_id
      WHERE d.credit_note_id = $1 AND d.pdf IS NOT NULL`,
    [creditNoteId],
  );
  return rows[0];
}

/** Stores numbered documents' PDFs, in one statement, except where a concurrent render stored one first. */
export async function storeDocumentPdfs(db: Db, rendered: { number: string; pdf: Buffer }[]): Promise<void> {
  await db.query(
    `UPDATE documents d SET pdf = r.pdf
       FROM unnest($1::text[], $2::bytea[]) AS r (number, pdf)
      WHERE d.number = r.number AND d.pdf IS NULL`,
    [rendered.map((document) => document.number), rendered.map((document) => document.pdf)],
  );
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

/** The numbering series a register lists: one kind of document, one year, one seller's. */
export interface DocumentSeries {
  kind: DocumentKind | 'credit_note';
  year: number;
  /** A connected account's series, or null for the platform's. */
  account: string | null;
}

export interface RegisterEntry {
  number: string;
  kind: string;
  sequence: number;
  issued_at: Date;
  /** Numbered and not rendered yet (a render that failed is retried); it keeps its number. */
  rendered: boolean;
  payment_id: number | null;
  credit_note_id: string | null;
  invoice_id: string | null;
  /** The payment's amount, or the credit note's. */
  amount: number | null;
  currency: string | null;
  /** A credit note voided since its document was issued. */
  voided: boolean;
}

/** One series of documents in number order, from after `afterSequence`: what each number was given to. */
export async function documentRegister(db: Queryable, series: DocumentSeries, afterSequence: number | undefined, limit: number): Promise<RegisterEntry[]> {
  const { rows } = await db.query<RegisterEntry>(
    `SELECT d.number, d.kind, d.sequence, d.created_at AS issued_at, d.pdf IS NOT NULL AS rendered, d.payment_id::int AS payment_id,
            d.credit_note_id, coalesce(p.invoice_id, n.invoice_id) AS invoice_id, coalesce(p.amount, n.amount)::float8 AS amount,
            coalesce(p.currency, n.currency) AS currency, coalesce(n.voided, false) AS voided
       FROM documents d
       LEFT JOIN payments p ON p.id = d.payment_id
       LEFT JOIN credit_notes n ON n.id = d.credit_note_id
      WHERE d.account = $1 AND d.kind = $2 AND d.year = $3 AND ($4::int IS NULL OR d.sequence > $4)
      ORDER BY d.sequence
      LIMIT $5`,
    [series.account ?? '', series.kind, series.year, afterSequence ?? null, limit],
  );
  return rows;
}
