import type { Queryable } from '../platform/db';

export interface OutboxRow {
  key: string;
  recipient: string;
  subject: string;
  messageId: string;
  eventId: string | null;
}

export type Claim = 'claimed' | 'sent' | 'claimed_by_another';

/**
 * Adds the email unless its key is known, and claims it for one sending attempt for `leaseMs`,
 * in one statement (no transaction is held while the attempt talks to the mail server). Tells
 * instead that it was sent, or that another attempt holds a live claim. A first attempt is one
 * round trip: the row is inserted already claimed.
 */
export async function claimOutboxRow(db: Queryable, row: OutboxRow, leaseMs: number): Promise<Claim> {
  const { rowCount } = await db.query(
    `INSERT INTO email_outbox (key, recipient, subject, message_id, event_id, claimed_until)
     VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6::float8 / 1000))
     ON CONFLICT (key) DO UPDATE SET claimed_until = excluded.claimed_until
      WHERE email_outbox.status = 'pending' AND (email_outbox.claimed_until IS NULL OR email_outbox.claimed_until < now())`,
    [row.key, row.recipient, row.subject, row.messageId, row.eventId, leaseMs],
  );
  if (rowCount === 1) return 'claimed';
  return (await isSent(db, row.key)) ? 'sent' : 'claimed_by_another';
}

/** Gives a claim back after a failed attempt, so the retry need not wait for it to expire. */
export async function releaseOutboxRow(db: Queryable, key: string): Promise<void> {
  await db.query(`UPDATE email_outbox SET claimed_until = NULL WHERE key = $1 AND status = 'pending'`, [key]);
}

/**
 * Withdraws an email that must not go out any more (what it was about no longer stands): true
 * when it did not go out and now will not (its waiting row dropped, or none written); false when
 * it went out, or an attempt holds it right now and may still send it.
 */
export async function withdrawOutboxRow(db: Queryable, key: string): Promise<boolean> {
  const { rows } = await db.query<{ withdrawn: boolean }>(
    `WITH dropped AS (
       DELETE FROM email_outbox WHERE key = $1 AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < now()) RETURNING 1)
     SELECT EXISTS (SELECT 1 FROM dropped) OR NOT EXISTS (SELECT 1 FROM email_outbox WHERE key = $1) AS withdrawn`,
    [key],
  );
  return rows[0].withdrawn;
}

export async function isSent(db: Queryable, key: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM email_outbox WHERE key = $1 AND status = 'sent'`, [key]);
  return rows.length > 0;
}

// The recipient may have been corrected (FINANCE_EMAIL) since a failed first attempt.
export async function markSent(db: Queryable, key: string, recipient: string): Promise<void> {
  await db.query(`UPDATE email_outbox SET status = 'sent', sent_at = now(), recipient = $2 WHERE key = $1`, [key, recipient]);
}
