import type { Db } from '../platform/db';

/** What one event caused: the rows its processing wrote, each keyed so it exists once. */
export interface EventEffects {
  payments: { id: number; invoice_id: string; amount: number; currency: string; documents: string[] }[];
  ledger_entries: {
    id: number;
    source_key: string;
    kind: string;
    reference: string;
    lines: { account: string; currency: string; debit: number; credit: number }[];
  }[];
  emails: { key: string; subject: string; status: string; sent_at: Date | null }[];
  /** Documents of the event's own (a credit note's); a payment's are listed with the payment. */
  documents: { number: string; kind: string }[];
}

export async function eventEffects(db: Db, eventId: string): Promise<EventEffects> {
  const [payments, ledgerEntries, emails, documents] = await Promise.all([
    db.query(
      `SELECT p.id::int AS id, p.invoice_id, p.amount::float8 AS amount, p.currency,
              coalesce((SELECT array_agg(d.number ORDER BY d.kind DESC) FROM documents d WHERE d.payment_id = p.id), '{}') AS documents
         FROM payments p WHERE p.source_event_id = $1 ORDER BY p.id`,
      [eventId],
    ),
    db.query(
      `SELECT e.id::int AS id, e.source_key, e.kind, e.reference,
              json_agg(json_build_object('account', l.account, 'currency', l.currency,
                                         'debit', l.debit, 'credit', l.credit) ORDER BY l.id) AS lines
         FROM ledger_entries e JOIN ledger_lines l ON l.entry_id = e.id
        WHERE e.event_id = $1 GROUP BY e.id ORDER BY e.id`,
      [eventId],
    ),
    // Recipients stay out: the key says who (customer, finance) without the address.
    db.query(`SELECT key, subject, status, sent_at FROM email_outbox WHERE event_id = $1 ORDER BY created_at, key`, [
      eventId,
    ]),
    db.query('SELECT number, kind FROM documents WHERE source_event_id = $1 ORDER BY number', [eventId]),
  ]);
  return { payments: payments.rows, ledger_entries: ledgerEntries.rows, emails: emails.rows, documents: documents.rows };
}
