import { ApplicationFailure } from '@temporalio/common';
import { withTransaction, type Db } from './db';
import { FailureType } from './failures';

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
 * the retry. A commit lost after the mail server took the message is recorded again on a new
 * connection. The Message-ID is derived from the key, so the one window left (the process dying
 * between the mail server's answer and the commit) gives receivers a duplicate they can recognise.
 */
export async function sendOnce(db: Db, mailer: Mailer, from: string, email: OutgoingEmail): Promise<'sent' | 'already_sent'> {
  const messageId = `<${email.key.replace(/[^\w.-]/g, '.')}@stripe-workflows>`;
  await db.query(
    `INSERT INTO email_outbox (key, recipient, subject, message_id, event_id) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (key) DO NOTHING`,
    [email.key, email.to, email.subject, messageId, email.eventId ?? null],
  );
  let handedOver = false;
  try {
    return await withTransaction(db, async (tx) => {
      const { rows } = await tx.query<{ status: string }>('SELECT status FROM email_outbox WHERE key = $1 FOR UPDATE', [
        email.key,
      ]);
      if (rows[0].status === 'sent') return 'already_sent';
      try {
        await mailer.sendMail({
          from,
          to: email.to,
          subject: email.subject,
          text: email.text,
          html: email.html,
          messageId,
          attachments: email.attachments,
        });
      } catch (err) {
        throw permanentRejection(err, email.key) ?? err;
      }
      handedOver = true;
      await markSent(tx, email);
      return 'sent';
    });
  } catch (err) {
    if (!handedOver) throw err;
    // The mail server has the message but the commit was lost (PostgreSQL went away): record it
    // on a new connection rather than let the retry send it a second time.
    await markSentOnceReachable(db, email);
    return 'sent';
  }
}

// The recipient may have been corrected (FINANCE_EMAIL) since a failed first attempt.
async function markSent(db: Pick<Db, 'query'>, email: OutgoingEmail): Promise<void> {
  await db.query(`UPDATE email_outbox SET status = 'sent', sent_at = now(), recipient = $2 WHERE key = $1`, [
    email.key,
    email.to,
  ]);
}

async function markSentOnceReachable(db: Db, email: OutgoingEmail, forMs = 30_000): Promise<void> {
  const deadline = Date.now() + forMs;
  for (;;) {
    try {
      return await markSent(db, email);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/**
 * An SMTP 5xx answer is permanent: retrying the same message cannot succeed until someone fixes
 * the address or the relay. The event then fails visibly for an operator to retry. The server's
 * own text is left out, as it usually quotes the address.
 */
function permanentRejection(err: unknown, key: string): ApplicationFailure | undefined {
  const code = (err as { responseCode?: number }).responseCode;
  if (code === undefined || code < 500 || code > 599) return undefined;
  return ApplicationFailure.nonRetryable(`the mail server refused email ${key} permanently (SMTP ${code})`, FailureType.EmailRejected);
}
