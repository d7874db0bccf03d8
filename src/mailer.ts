import nodemailer from 'nodemailer';
import type { Mailer } from './outbox';

export function createMailer(smtpUrl: string): Mailer & { close(): void } {
  return nodemailer.createTransport(smtpUrl);
}
