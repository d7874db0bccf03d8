import { Writable } from 'node:stream';
import { createLogger, resolveLogFormat } from '../src/platform/log';

/** Logs for people at a terminal, JSON for collectors; redaction holds in both. */

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

test.each([
  ['auto', true, 'pretty'],
  ['auto', false, 'json'],
  ['json', true, 'json'],
  ['pretty', false, 'pretty'],
] as const)('when LOG_FORMAT is %s and the output is a terminal: %s, then the lines are %s', (format, terminal, expected) => {
  expect(resolveLogFormat(format, terminal)).toBe(expected);
});

test('when logs are for a person, then a line reads as time, level and message with its fields, and secrets and emails stay out', () => {
  const output = capture();
  const log = createLogger('info', output.stream, 'pretty');

  log.info({ eventId: 'evt_123', secret: 'whsec_live_secret', customer: 'someone@example.com' }, 'event processed');

  const line = output.text();
  expect(line).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] INFO: event processed\n/);
  expect(line).toContain('eventId: "evt_123"');
  expect(line).toContain('[redacted]');
  expect(line).not.toContain('whsec_live_secret');
  expect(line).not.toContain('someone@example.com');
  expect(line).not.toContain('{"level"');
});

test('when logs are for a collector, then each line is one JSON object', () => {
  const output = capture();
  const log = createLogger('info', output.stream, 'json');

  log.warn({ eventId: 'evt_456' }, 'event failed');

  expect(JSON.parse(output.text())).toMatchObject({ level: 40, eventId: 'evt_456', msg: 'event failed' });
});
