import { paidInvoice } from './support/billing-events';
import { eventStatusWhenDone, startTestService, type TestService } from './support/service';
import { deliver, stripeEvent } from './support/stripe-events';

jest.setTimeout(180_000);

let service: TestService;

beforeAll(async () => {
  service = await startTestService();
});

afterAll(async () => {
  await service?.stop();
});

test('when 50 payments are processed concurrently, then receipts and invoices are numbered 1..50 without gap or duplicate', async () => {
  const events = Array.from({ length: 50 }, () => stripeEvent('invoice.paid', paidInvoice({ subtotal: 1_000 })));

  // Every event twice, all at once, as Stripe's retries can make it.
  const answers = await Promise.all(events.flatMap((event) => [deliver(service.url, event), deliver(service.url, event)]));
  const statuses = await Promise.all(events.map((event) => eventStatusWhenDone(service, event.id)));

  expect(answers.every((a) => a.status === 200)).toBe(true);
  expect(statuses.every((s) => s === 'processed')).toBe(true);
  const { rows } = await service.database.db.query('SELECT kind, sequence, number FROM documents ORDER BY kind, sequence');
  const year = new Date().getUTCFullYear();
  const expected = Array.from({ length: 50 }, (_, i) => String(i + 1).padStart(6, '0'));
  expect(rows.filter((r) => r.kind === 'receipt').map((r) => r.number)).toEqual(expected.map((n) => `R-${year}-${n}`));
  expect(rows.filter((r) => r.kind === 'invoice').map((r) => r.number)).toEqual(expected.map((n) => `INV-${year}-${n}`));
  await service.smtp.waitForMessages(100);
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(service.smtp.messages).toHaveLength(100);
});
