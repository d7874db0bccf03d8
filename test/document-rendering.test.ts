import { getDocument, numberDocuments, storeDocumentPdfs } from '../src/store/documents';
import { recordPayment } from '../src/store/payments';
import { createTestDatabase, type TestDatabase } from './support/database';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
});

async function aPayment(invoiceId: string) {
  return recordPayment(database.db, {
    invoice_id: invoiceId,
    invoice_number: null,
    customer_id: 'cus_render',
    customer_email: null,
    customer_name: null,
    subscription_id: null,
    charge_id: null,
    payment_intent_id: null,
    payment_method: null,
    account: null,
    amount: 1_000,
    currency: 'usd',
    paid_at: new Date('2031-03-01T00:00:00Z'),
    invoice: { object: 'invoice', id: invoiceId },
    source_event_id: `evt_${invoiceId}`,
  });
}

test('when a payment is numbered but its PDFs are not stored yet (a render failed), then the numbers stay taken and are not served', async () => {
  const payment = await aPayment('in_render_pending');

  const numbered = await numberDocuments(database.db, payment.id, 2031);

  expect(numbered).toEqual([
    { number: 'R-2031-000001', kind: 'receipt', rendered: false },
    { number: 'INV-2031-000001', kind: 'invoice', rendered: false },
  ]);
  expect(await getDocument(database.db, 'R-2031-000001')).toBeUndefined();
});

test('when the retry numbers the same payment again, concurrently, then it gets the same numbers and the next payment the next ones', async () => {
  const payment = await aPayment('in_render_retry');
  const next = await aPayment('in_render_next');

  const [first, second] = await Promise.all([
    numberDocuments(database.db, payment.id, 2031),
    numberDocuments(database.db, payment.id, 2031),
  ]);
  const following = await numberDocuments(database.db, next.id, 2031);

  expect(first.map((d) => d.number)).toEqual(second.map((d) => d.number));
  expect(first.map((d) => d.number)).toEqual(['R-2031-000002', 'INV-2031-000002']);
  expect(following.map((d) => d.number)).toEqual(['R-2031-000003', 'INV-2031-000003']);
});

test('when two renders store a PDF for one number, then the first stays and the document is served', async () => {
  const payment = await aPayment('in_render_twice');
  const [receipt] = await numberDocuments(database.db, payment.id, 2032);

  await Promise.all([
    storeDocumentPdfs(database.db, [{ number: receipt.number, pdf: Buffer.from('%PDF-first') }]),
    storeDocumentPdfs(database.db, [{ number: receipt.number, pdf: Buffer.from('%PDF-second') }]),
  ]);
  const stored = await getDocument(database.db, receipt.number);
  const again = await numberDocuments(database.db, payment.id, 2032);

  expect(['%PDF-first', '%PDF-second']).toContain(stored?.pdf.toString());
  expect(again.find((d) => d.number === receipt.number)?.rendered).toBe(true);
});

test('when a year passes a million documents, then the number keeps every digit', async () => {
  await database.db.query(`INSERT INTO document_counters (account, kind, year, last_number) VALUES ('', 'receipt', 2033, 999999), ('', 'invoice', 2033, 41)`);
  const payment = await aPayment('in_render_millionth');

  const numbered = await numberDocuments(database.db, payment.id, 2033);

  expect(numbered.map((document) => document.number)).toEqual(['R-2033-1000000', 'INV-2033-000042']);
});
