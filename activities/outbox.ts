import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { Db } from '../src/platform/db';
import type { Attachment, Mailer } from '../src/platform/mailer';
import { claimOutboxRow, markSent, releaseOutboxRow } from '../src/store/outbox';
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

/** One of the emails about one thing, each to its recipient: its key ends in the recipient's role. */
export interface RecipientEmail {
  role: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
}

/**
 * Sends each recipient its email about one thing, once each (`<about>:customer`,
 * `<about>:finance`), with the same attachments.
 */
export async function sendOnceEach(
  db: Db,
  mailer: Mailer,
  from: string,
  about: string,
  recipients: RecipientEmail[],
  shared: Pick<OutgoingEmail, 'attachments' | 'eventId'>,
): Promise<void> {
  for (const { role, ...email } of recipients) await sendOnce(db, mailer, from, { key: `${about}:${role}`, ...email, ...shared });
}

/**
 * Sends an email once per key. The attempt first adds and claims the outbox row for a lease
 * longer than the mail server may take (its timeouts are below the activity's), in one
 * statement: no transaction or pooled connection is held across the SMTP conversation, so a mail
 * server that accepts and never answers stalls only this attempt. A concurrent attempt of the
 * same key finds the claim, fails retryably and later finds the email sent. A failed attempt
 * gives the claim back; a crashed one lets it expire. A record of the sending lost after the
 * mail server took the message is written again on a new connection. The Message-ID is derived
 * from the key, so the one window left (the process dying between the mail server's answer and
 * the record) gives receivers a duplicate they can recognise.
 */
export async function sendOnce(db: Db, mailer: Mailer, from: string, email: OutgoingEmail): Promise<'sent' | 'already_sent'> {
  const messageId = `<${email.key.replace(/[^\w.-]/g, '.')}@stripe-workflows>`;
  const claim = await claimOutboxRow(db, { key: email.key, recipient: email.to, subject: email.subject, messageId, eventId: email.eventId ?? null }, sendingLeaseMs);
  if (claim === 'sent') return 'already_sent';
  if (claim === 'claimed_by_another') {
    throw ApplicationFailure.retryable(`email ${email.key} is being sent by another attempt`, FailureType.EmailBeingSent);
  }
  try {
    await whileHeartbeating(mailer.sendMail({ from, to: email.to, subject: email.subject, text: email.text, html: email.html, messageId, attachments: email.attachments }));
  } catch (err) {
    // Cancelled mid-conversation, the mail server may still take the message: the claim stays
    // until its lease ends, so no other attempt sends it meanwhile.
    if (isCancellation(err)) throw err;
    await releaseOutboxRow(db, email.key).catch(() => undefined);
    throw permanentRejection(err, email.key) ?? err;
  }
  // The mail server has the message: record it even if PostgreSQL is away for a while, rather
  // than let the retry send it a second time.
  await markSentOnceReachable(db, email);
  return 'sent';
}

/** Longer than any attempt can talk to the mail server (activity timeout 30 s, SMTP timeouts below it). */
const sendingLeaseMs = 60_000;

const heartbeatEveryMs = 1_000;

/**
 * Inside an activity, heartbeats while the mail server talks (so the activity learns of a
 * cancellation) and gives up waiting when it is cancelled. Outside one (tests), just waits.
 * The first heartbeat goes out after a second, not at once: a mail server that answers sooner
 * costs the Temporal server no heartbeat write (the first of an attempt is never throttled).
 * A local activity has no heartbeat (its worker cancels it on timeout) and sends none.
 */
async function whileHeartbeating<T>(work: Promise<T>): Promise<T> {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return work;
  }
  const beating = context.info.isLocal ? undefined : setInterval(() => context.heartbeat(), heartbeatEveryMs);
  try {
    return await Promise.race([work, context.cancelled]);
  } finally {
    clearInterval(beating);
  }
}

const isCancellation = (err: unknown) => err instanceof CancelledFailure;

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
