import { Writable } from 'node:stream';
import { createLogger, maskEmails } from '../src/platform/log';
import { paidInvoice } from './support/billing-events';
import { admin, eventStatusWhenDone, startTestService, testAdminKey, type TestService } from './support/service';
import { deliver, rotatedSecret, signatureHeader, stripeEvent, stripeObject, testSecret } from './support/stripe-events';
import { startWorkerProcess, type WorkerProcess } from './support/worker-process';

// A full run at debug level, API in this process and `npm run worker` in another, both logs kept.
const apiLines: string[] = [];
let service: TestService;
let worker: WorkerProcess;

const customerEmail = 'private.person@example.com';
const financeEmail = 'books@finance.example';
const fingerprint = 'Fp0xSecretFinger';
const invoice = paidInvoice({ customerEmail, subtotal: 4_200 });
const paid = stripeEvent('invoice.paid', invoice);
const cardAttached = stripeEvent(
  'payment_method.attached',
  stripeObject('payment_method', {
    customer: 'cus_logs',
    card: { ...stripeObject('payment_method').card, fingerprint, last4: '9876' },
    billing_details: { email: customerEmail, name: 'Private Person' },
  }),
);
const paidBody = JSON.stringify(paid);
const paidSignature = signatureHeader(paidBody);

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      apiLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  service = await startTestService({ worker: false, overrides: { LOG_LEVEL: 'debug', FINANCE_EMAIL: financeEmail }, logDestination: sink });
  worker = await startWorkerProcess(service, { LOG_LEVEL: 'debug', FINANCE_EMAIL: financeEmail }, async (lines) =>
    lines.some((line) => line.includes('"worker running"')),
  );

  await fetch(`${service.url}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': paidSignature, 'x-request-id': 'req-logs-1' },
    body: paidBody,
  });
  await deliver(service.url, paid);
  await deliver(service.url, cardAttached);
  await deliver(service.url, stripeEvent('customer.created', stripeObject('customer')), { secret: 'whsec_forged_000000' });
  await admin(service, `/events/${paid.id}`);
  expect(await eventStatusWhenDone(service, paid.id)).toBe('processed');
  expect(await eventStatusWhenDone(service, cardAttached.id)).toBe('processed');
  await worker.stop();
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await service?.stop();
});

const allLines = () => [...apiLines, ...worker.lines];
const parsed = (lines: string[]) => lines.map((line) => JSON.parse(line) as Record<string, any>);

test('when the run is over, then every line is JSON and both processes logged', () => {
  expect(apiLines.length).toBeGreaterThan(5);
  expect(worker.lines.length).toBeGreaterThan(5);
  expect(() => parsed(allLines())).not.toThrow();
});

test.each([
  ['webhook secrets', testSecret],
  ['the rotated secret', rotatedSecret],
  ['the Stripe-Signature value', paidSignature.split('v1=')[1]],
  ['the admin key', testAdminKey],
  ["the customer's email", customerEmail],
  ['the finance email', financeEmail],
  ['card fingerprints', fingerprint],
  ['card numbers (last4 in context)', '"last4"'],
  ['whole payloads', invoice.hosted_invoice_url ?? '"data":{"object"'],
  ['raw event bodies', paidBody.slice(0, 40)],
])('when the logs are read, then they never contain %s', (_what, secret) => {
  expect(secret.length).toBeGreaterThan(3);
  for (const line of allLines()) expect(line).not.toContain(secret);
});

test('when a request is served, then every API line carries its request id, the caller’s when given', () => {
  const lines = parsed(apiLines).filter((line) => line.msg === 'webhook delivery' || line.msg === 'request');
  expect(lines.length).toBeGreaterThan(4);
  for (const line of lines) expect(line.requestId).toEqual(expect.any(String));
  expect(lines.find((line) => line.requestId === 'req-logs-1')).toMatchObject({ msg: 'webhook delivery', eventId: paid.id });
});

test('when an event is processed, then every worker line about it carries the event id', () => {
  const lines = parsed(worker.lines);
  const aboutPaid = lines.filter((line) => line.eventId === paid.id);
  expect(aboutPaid.map((line) => line.msg)).toEqual(expect.arrayContaining(['event processing', 'event processed']));
  // Executions of events are named by eventId, never by a bare workflowId.
  expect(lines.filter((line) => typeof line.workflowId === 'string' && line.workflowId.startsWith('evt_'))).toEqual([]);
});

test('when foreign text quotes an email address, then the logger masks it, in messages and errors alike', () => {
  const lines: string[] = [];
  const log = createLogger('info', { write: (line: string) => void lines.push(line) });

  log.warn({ err: new Error('550 5.1.1 <someone@example.org>: Recipient address rejected') }, 'mail to someone@example.org failed');

  expect(lines.join('')).not.toContain('someone@example.org');
  expect(lines.join('')).toContain('[email]');
  expect(maskEmails({ nested: ['a.b+c@d-e.co.uk'] })).toEqual({ nested: ['[email]'] });
});
