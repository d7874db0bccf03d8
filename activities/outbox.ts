import { ApplicationFailure } from '@temporalio/common';
import { withTransaction, type Db } from '../src/platform/db';
import type { Attachment, Mailer } from '../src/platform/mailer';
import { addToOutbox, lockOutboxRow, markSent } from '../src/store/outbox';
import { FailureType } from '../workflows/contracts';

export interface OutgoingEmail {
  /** What the email is about and for whom, e.g. `payment:12:documents:finance`. */
  key: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
  attachments?: Attachment[];
  eventId?: string;
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
  await addToOutbox(db, { key: email.key, recipient: email.to, subject: email.subject, messageId, eventId: email.eventId ?? null });
  let handedOver = false;
  try {
    return await withTransaction(db, async (tx) => {
      if ((await lockOutboxRow(tx, email.key)).sent) return 'already_sent';
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
      await markSent(tx, email.key, email.to);
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

async function markSentOnceReachable(db: Db, email: OutgoingEmail, forMs = 30_000): Promise<void> {
  const deadline = Date.now() + forMs;
  for (;;) {
    try {
      return await markSent(db, email.key, email.to);
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
