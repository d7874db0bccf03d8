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

export type Claim = 'claimed' | 'sent' | 'claimed_by_another';

/**
 * Claims the email for one sending attempt, for `leaseMs`, in one statement (no transaction is
 * held while the attempt talks to the mail server). Tells instead that it was sent, or that
 * another attempt holds a live claim.
 */
export async function claimOutboxRow(db: Queryable, key: string, leaseMs: number): Promise<Claim> {
  const { rowCount } = await db.query(
    `UPDATE email_outbox SET claimed_until = now() + make_interval(secs => $2::float8 / 1000)
      WHERE key = $1 AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < now())`,
    [key, leaseMs],
  );
  if (rowCount === 1) return 'claimed';
  return (await isSent(db, key)) ? 'sent' : 'claimed_by_another';
}

/** Gives a claim back after a failed attempt, so the retry need not wait for it to expire. */
export async function releaseOutboxRow(db: Queryable, key: string): Promise<void> {
  await db.query(`UPDATE email_outbox SET claimed_until = NULL WHERE key = $1 AND status = 'pending'`, [key]);
}

export async function isSent(db: Queryable, key: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM email_outbox WHERE key = $1 AND status = 'sent'`, [key]);
  return rows.length > 0;
}

// The recipient may have been corrected (FINANCE_EMAIL) since a failed first attempt.
export async function markSent(db: Queryable, key: string, recipient: string): Promise<void> {
  await db.query(`UPDATE email_outbox SET status = 'sent', sent_at = now(), recipient = $2 WHERE key = $1`, [key, recipient]);
}
