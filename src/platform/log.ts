import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

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

const emailAddress = /[\w.+-]+@[\w-]+(\.[\w-]+)+/g;

/**
 * Text from elsewhere (an SMTP server's answer, a library's error) may quote an email address;
 * it is masked wherever it appears in a line, messages and error stacks included.
 */
export function maskEmails(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(emailAddress, '[email]');
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return { type: value.name, message: maskEmails(value.message), stack: maskEmails(value.stack) };
  }
  if (Array.isArray(value)) return value.map((item) => maskEmails(item, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, maskEmails(item, depth + 1)]));
}

export type LogFormat = 'auto' | 'json' | 'pretty';

/** A person at a terminal reads lines; a log collector reads JSON. */
export function resolveLogFormat(format: LogFormat, isTerminal = Boolean(process.stdout.isTTY)): 'json' | 'pretty' {
  return format === 'auto' ? (isTerminal ? 'pretty' : 'json') : format;
}

export function createLogger(level: string, destination?: pino.DestinationStream, format: LogFormat = 'json'): Logger {
  const output =
    resolveLogFormat(format) === 'pretty'
      ? pretty({ destination: destination ?? 1, colorize: !destination && Boolean(process.stdout.isTTY), translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', sync: true })
      : destination;
  return pino(
    {
      level,
      redact: { paths: redactedPaths, censor: '[redacted]' },
      hooks: {
        logMethod(args, method) {
          return method.apply(this, args.map((arg) => maskEmails(arg)) as Parameters<typeof method>);
        },
      },
    },
    output,
  );
}
