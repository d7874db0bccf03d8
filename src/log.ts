import pino, { type Logger } from 'pino';

/**
 * Paths never written to the logs: secrets, signatures, card data, email addresses and
 * whole payloads. Log objects use these field names; pino replaces the values.
 */
export const redactedPaths = [
  'secret',
  'signature',
  'headers["stripe-signature"]',
  'headers.authorization',
  'req.headers["stripe-signature"]',
  'req.headers.authorization',
  'payload',
  'body',
  'email',
  '*.email',
  'card',
  '*.card',
  'password',
  'token',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: redactedPaths, censor: '[redacted]' } }, destination);
}
