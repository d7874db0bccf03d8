import nodemailer from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import type { Metrics } from './metrics';

/** An attachment of an outgoing email. */
export interface Attachment {
  filename: string;
  content: Buffer;
  contentType: string;
}

/** What the workflows' emails go through: nodemailer's transport, or a test's stand-in. */
export interface Mailer {
  sendMail(message: {
    from: string;
    to: string;
    subject: string;
    text: string;
    html?: string;
    messageId: string;
    attachments?: Attachment[];
  }): Promise<unknown>;
}

/**
 * The SMTP transport, with timeouts well below the sending activity's 30 s (nodemailer's own are
 * minutes): a mail server that accepts the connection and never greets, or stops answering
 * mid-conversation, fails the attempt, which is retried, instead of holding a worker slot.
 * `requireTLS` refuses to send over a connection that could not be upgraded with STARTTLS.
 *
 * Connections are pooled: a paid invoice sends two emails, and opening a connection (TCP,
 * greeting, EHLO, STARTTLS) for each cost ~110 ms and 8 ms of CPU per message against a local
 * relay, where a pooled one took 4 ms (BENCHMARKS.md). The timeouts hold per connection, so a
 * relay that stalls still fails the attempts waiting on it.
 */
export function createMailer(smtpUrl: string, options: { timeoutMs?: number; requireTLS?: boolean } = {}): Mailer & { close(): void } {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return nodemailer.createTransport({
    url: smtpUrl,
    pool: true,
    maxConnections: 10,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: 2 * timeoutMs,
    requireTLS: options.requireTLS ?? false,
  } satisfies SMTPPool.Options);
}

/** Counts every email the SMTP server accepted, by the kind its outbox key starts with. */
export function countingMailer(mailer: Mailer, metrics: Metrics): Mailer {
  return {
    async sendMail(message) {
      const sent = await mailer.sendMail(message);
      metrics.emailsSent.inc({ kind: /^<(\w+)/.exec(message.messageId)?.[1] ?? 'other' });
      return sent;
    },
  };
}
