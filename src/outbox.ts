import { withTransaction, type Db } from './db';

export interface OutgoingEmail {
  /** What the email is about and for whom, e.g. `payment:12:documents:finance`. */
  key: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
  attachments?: { filename: string; content: Buffer; contentType: string }[];
  eventId?: string;
}

export interface Mailer {
  sendMail(message: {
    from: string;
    to: string;
    subject: string;
    text: string;
    html?: string;
    messageId: string;
    attachments?: OutgoingEmail['attachments'];
  }): Promise<unknown>;
}

/**
 * Sends an email once per key. The outbox row is locked while sending, so a concurrent send
 * of the same key waits and then finds it sent; a crash before the commit leaves it unsent for
 * the retry. The Message-ID is derived from the key, so even the one unavoidable window (mail
 * accepted, commit lost) gives receivers a duplicate they can recognise.
 */
export async function sendOnce(db: Db, mailer: Mailer, from: string, email: OutgoingEmail): Promise<'sent' | 'already_sent'> {
  const messageId = `<${email.key.replace(/[^\w.-]/g, '.')}@stripe-workflows>`;
  await db.query(
    `INSERT INTO email_outbox (key, recipient, subject, message_id, event_id) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (key) DO NOTHING`,
    [email.key, email.to, email.subject, messageId, email.eventId ?? null],
  );
  return withTransaction(db, async (tx) => {
    const { rows } = await tx.query<{ status: string }>('SELECT status FROM email_outbox WHERE key = $1 FOR UPDATE', [
      email.key,
    ]);
    if (rows[0].status === 'sent') return 'already_sent';
    await mailer.sendMail({
      from,
      to: email.to,
      subject: email.subject,
      text: email.text,
      html: email.html,
      messageId,
      attachments: email.attachments,
    });
    await tx.query(`UPDATE email_outbox SET status = 'sent', sent_at = now() WHERE key = $1`, [email.key]);
    return 'sent';
  });
}
