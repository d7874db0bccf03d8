import nodemailer from 'nodemailer';
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

export function createMailer(smtpUrl: string): Mailer & { close(): void } {
  return nodemailer.createTransport(smtpUrl);
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
