import { paidInvoice } from './support/billing-events';
import { admin, eventStatusWhenDone, startTestService, type TestService } from './support/service';
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

test("when finance lists a year's receipts page by page, then every number appears once, in order, with the payment it was given to", async () => {
  const year = new Date().getUTCFullYear();
  const entries: Record<string, any>[] = [];
  let cursor: string | null = '';

  while (cursor !== null) {
    const { status, body } = await admin(service, `/documents?kind=receipt&year=${year}&limit=20${cursor ? `&cursor=${cursor}` : ''}`);
    expect(status).toBe(200);
    entries.push(...body.data);
    cursor = body.next_cursor;
  }

  expect(entries.map((entry) => entry.sequence)).toEqual(Array.from({ length: entries.length }, (_, i) => i + 1));
  expect(entries.length).toBeGreaterThanOrEqual(50);
  const { rows } = await service.database.db.query("SELECT id::int AS id, invoice_id, amount::int AS amount FROM payments WHERE account IS NULL");
  const payments = new Map(rows.map((row) => [row.id, row]));
  for (const entry of entries) {
    expect(entry).toMatchObject({ number: `R-${year}-${String(entry.sequence).padStart(6, '0')}`, kind: 'receipt', rendered: true, credit_note_id: null, currency: 'usd', voided: false });
    expect({ invoice_id: entry.invoice_id, amount: entry.amount }).toEqual({ invoice_id: payments.get(entry.payment_id)?.invoice_id, amount: payments.get(entry.payment_id)?.amount });
  }
  const connected = await admin(service, `/documents?kind=invoice&year=${year}&account=acct_numbersA`);
  expect(connected.body.data.map((entry: { number: string }) => entry.number)).toEqual(Array.from({ length: 5 }, (_, i) => `acct_numbersA-INV-${year}-00000${i + 1}`));
});

test.each([
  ['/documents?year=2026', /kind must be one of receipt, invoice, credit_note/],
  ['/documents?kind=receipts&year=2026', /kind must be one of/],
  ['/documents?kind=receipt', /year must be a year like 2026/],
  ['/documents?kind=receipt&year=26', /year must be a year like 2026/],
  ['/documents?kind=receipt&year=2026&account=acme', /account must be a connected account id/],
  ['/documents?kind=receipt&year=2026&from=2026-01-01', /from is not a parameter/],
])('when the register is asked for %s, then it is refused with what is wrong', async (path, message) => {
  const { status, body } = await admin(service, path);

  expect(status).toBe(400);
  expect(body.error).toEqual({ code: 'invalid_parameter', message: expect.stringMatching(message) });
});
