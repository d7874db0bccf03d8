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

test('when payments of two connected accounts and the platform are processed at once, then each numbers its documents in a series of its own', async () => {
  const accounts = ['acct_numbersA', 'acct_numbersB'];
  const events = accounts.flatMap((account) => Array.from({ length: 5 }, () => stripeEvent('invoice.paid', paidInvoice({ subtotal: 500 }), { account })));
  const platformBefore = await service.database.db.query("SELECT count(*)::int AS n FROM documents WHERE account = ''");

  await Promise.all(events.flatMap((event) => [deliver(service.url, event), deliver(service.url, event)]));
  await Promise.all(events.map((event) => eventStatusWhenDone(service, event.id)));

  const year = new Date().getUTCFullYear();
  for (const account of accounts) {
    const { rows } = await service.database.db.query("SELECT number FROM documents WHERE account = $1 AND kind = 'receipt' ORDER BY sequence", [account]);
    expect(rows.map((r) => r.number)).toEqual([1, 2, 3, 4, 5].map((n) => `${account}-R-${year}-00000${n}`));
  }
  const platformAfter = await service.database.db.query("SELECT count(*)::int AS n FROM documents WHERE account = ''");
  expect(platformAfter.rows[0].n).toBe(platformBefore.rows[0].n);
});
