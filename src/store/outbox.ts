import type { Db, Queryable } from '../platform/db';


export interface OutboxRow {
  key: string;
  recipient: string;
  subject: string;
  messageId: string;
  eventId: string | null;
}

/** Adds the email unless its key is known. */
export async function addToOutbox(db: Db, row: OutboxRow): Promise<void> {
  await db.query(
    `INSERT INTO email_outbox (key, recipient, subject, message_id, event_id) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (key) DO NOTHING`,
    [row.key, row.recipient, row.subject, row.messageId, row.eventId],
  );
}

/** Locks the email's row until the transaction ends and tells whether it was sent. */
export async function lockOutboxRow(tx: Queryable, key: string): Promise<{ sent: boolean }> {
  const { rows } = await tx.query<{ status: string }>('SELECT status FROM email_outbox WHERE key = $1 FOR UPDATE', [key]);
  return { sent: rows[0].status === 'sent' };
}

export async function isSent(db: Queryable, key: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM email_outbox WHERE key = $1 AND status = 'sent'`, [key]);
  return rows.length > 0;
}

// The recipient may have been corrected (FINANCE_EMAIL) since a failed first attempt.
export async function markSent(db: Queryable, key: string, recipient: string): Promise<void> {
  await db.query(`UPDATE email_outbox SET status = 'sent', sent_at = now(), recipient = $2 WHERE key = $1`, [key, recipient]);
}
