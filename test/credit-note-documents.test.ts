import type { ParsedMail } from 'mailparser';
import { connectedAccount, creditNote, paidInvoice } from './support/billing-events';
import { pdfText } from './support/pdf';
import { admin, deliverTwiceAndWait, eventStatusWhenDone, startTestService, testAdminKey, type TestService } from './support/service';
import { deliver, stripeEvent, stripeObject } from './support/stripe-events';
import { until } from './support/until';

/** A credit note's own document: numbered, rendered once, emailed once to the customer and to finance. */

let service: TestService;
const year = new Date().getUTCFullYear();

beforeAll(async () => {
  service = await startTestService();
});

afterAll(async () => {
  await service?.stop();
});

/** The mails to an address, once the outbox had time to send any duplicate. */
async function mailsTo(address: string): Promise<ParsedMail[]> {
  await new Promise((resolve) => setTimeout(resolve, 300));
  return service.smtp.to(address);
}

/** Finance's credit note mails about one invoice. */
async function financeMailsAbout(invoiceNumber: string): Promise<ParsedMail[]> {
  return (await mailsTo(service.config.FINANCE_EMAIL)).filter((mail) => mail.subject?.startsWith('Credit note issued') && mail.subject.includes(invoiceNumber));
}

async function creditNoteDocuments(creditNoteId: string): Promise<{ number: string; kind: string }[]> {
  const { rows } = await service.database.db.query('SELECT number, kind FROM documents WHERE credit_note_id = $1', [creditNoteId]);
  return rows;
}

async function paid(customerEmail: string | null, overrides: Record<string, unknown> = {}, customer = 'cus_test_paying') {
  const invoice: Record<string, any> = { ...paidInvoice({ subtotal: 10_000, tax: 2_000, customerEmail }), customer };
  await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice, overrides));
  return invoice;
}

describe('credit note documents', () => {
  test('when a credit note refunds part of a paid invoice, delivered twice at once, then the customer and finance each get one email with its one numbered document', async () => {
    const invoice = await paid('credited@example.com');
    const note = creditNote({ invoiceId: invoice.id, amount: 3_600, tax: 600, to: 'refund' });

    await deliverTwiceAndWait(service, stripeEvent('credit_note.created', note));

    const documents = await creditNoteDocuments(note.id);
    expect(documents).toEqual([{ number: expect.stringMatching(new RegExp(`^CN-${year}-\\d{6}$`)), kind: 'credit_note' }]);
    const number = documents[0].number;
    const customerMails = (await mailsTo('credited@example.com')).filter((mail) => mail.subject?.startsWith('Your credit note'));
    expect(customerMails.map((mail) => mail.attachments.map((a) => a.filename))).toEqual([[`${number}.pdf`]]);
    expect(customerMails[0].text).toContain(`We issued a credit note of $36.00 for invoice ${invoice.number}. $36.00 was refunded to your payment method.`);
    const financeMails = await financeMailsAbout(invoice.number);
    expect(financeMails.map((mail) => mail.attachments.map((a) => a.filename))).toEqual([[`${number}.pdf`]]);
    expect(financeMails[0].text).toContain('Credited: $36.00 refunded');
  });

  test('when the customer changed their email after paying, delivered twice at once, then the credit note goes to the new address once', async () => {
    const customerId = `cus_moved_${Date.now()}`;
    const invoice = await paid('paid-from@example.com', {}, customerId);
    const note = creditNote({ invoiceId: invoice.id, amount: 1_200, to: 'balance' });
    const created = invoice.status_transitions.finalized_at + 120;
    await deliverTwiceAndWait(service, stripeEvent('customer.updated', stripeObject('customer', { id: customerId, email: 'moved-to@example.com' }), { created }));

    await deliverTwiceAndWait(service, stripeEvent('credit_note.created', { ...note, customer: customerId }));

    expect((await mailsTo('moved-to@example.com')).map((mail) => mail.subject)).toEqual([expect.stringMatching(/^Your credit note/)]);
    expect((await mailsTo('paid-from@example.com')).map((mail) => mail.subject)).toEqual([expect.stringMatching(/^Your receipt/)]);
  });

  test('when a credit note is rendered, then its PDF names the invoice and shows its lines, tax, total and where the credit went', async () => {
    const invoice = await paid('rendered@example.com');
    const note = creditNote({ invoiceId: invoice.id, amount: 4_800, tax: 800, to: 'balance' });

    await deliverTwiceAndWait(service, stripeEvent('credit_note.created', { ...note, reason: 'product_unsatisfactory' }));

    const [{ number }] = await creditNoteDocuments(note.id);
    const response = await fetch(`${service.url}/admin/documents/${number}`, { headers: { authorization: `Bearer ${testAdminKey}` } });
    expect(response.status).toBe(200);
    const text = await pdfText(Buffer.from(await response.arrayBuffer()));
    for (const shown of ['Credit note', number, note.number, invoice.number, 'Ada Lovelace', 'Product unsatisfactory', 'Pro plan (monthly)', '$40.00', 'Tax', '$8.00', 'Total credited', '$48.00', 'Credited to your balance']) {
      expect(text).toContain(shown);
    }
  });

  test('when two credit notes are issued at the same time, then their numbers follow each other without a gap', async () => {
    const invoice = await paid('twice@example.com');
    const notes = [creditNote({ invoiceId: invoice.id, amount: 1_000, to: 'balance' }), creditNote({ invoiceId: invoice.id, amount: 2_000, to: 'balance' })];

    await Promise.all(notes.map((note) => deliverTwiceAndWait(service, stripeEvent('credit_note.created', note))));

    const sequences = (await Promise.all(notes.map((note) => creditNoteDocuments(note.id)))).map(([document]) => Number(document.number.slice(-6)));
    expect(Math.abs(sequences[0] - sequences[1])).toBe(1);
    const { rows } = await service.database.db.query(`SELECT count(*)::int AS documents, max(sequence) AS last FROM documents WHERE kind = 'credit_note' AND account = ''`);
    expect(rows[0].documents).toBe(rows[0].last);
  });

  test('when no email of the customer is known, then only finance gets the credit note, told that the customer did not', async () => {
    const invoice = await paid(null);
    const note = creditNote({ invoiceId: invoice.id, amount: 500, to: 'balance', customerId: 'cus_without_email' });

    await deliverTwiceAndWait(service, stripeEvent('credit_note.created', note));

    const financeMails = await financeMailsAbout(invoice.number);
    expect(financeMails).toHaveLength(1);
    expect(financeMails[0].text).toContain('no email address known: the customer was not sent the credit note');
    const { rows } = await service.database.db.query(`SELECT key FROM email_outbox WHERE key LIKE $1 ORDER BY key`, [`credit_note:${note.id}:%`]);
    expect(rows).toEqual([{ key: `credit_note:${note.id}:document:finance` }]);
  });

  test("when a connected account issues a credit note, then it is numbered in the account's own series and sold by the account", async () => {
    const account = 'acct_credit_notes';
    await deliverTwiceAndWait(service, stripeEvent('account.updated', connectedAccount(account, 'Harbour Books Ltd'), { account }));
    const invoice = await paid('connected@example.com', { account });
    const note = creditNote({ invoiceId: invoice.id, amount: 1_200, to: 'refund' });

    await deliverTwiceAndWait(service, stripeEvent('credit_note.created', note, { account }));

    const [{ number }] = await creditNoteDocuments(note.id);
    expect(number).toBe(`${account}-CN-${year}-000001`);
    const [mail] = (await mailsTo('connected@example.com')).filter((m) => m.subject?.startsWith('Your credit note'));
    expect(mail.subject).toBe('Your credit note from Harbour Books Ltd: $12.00');
    expect(await pdfText(mail.attachments[0].content)).toContain('Harbour Books Ltd');
  });

  test("when an operator reads the credit note's event, then its effects list the document", async () => {
    const invoice = await paid('effects@example.com');
    const event = stripeEvent('credit_note.created', creditNote({ invoiceId: invoice.id, amount: 700, to: 'balance' }));

    await deliverTwiceAndWait(service, event);

    const { status, body } = await admin(service, `/events/${event.id}`);
    expect(status).toBe(200);
    expect(body.effects.documents).toEqual([{ number: expect.stringMatching(/^CN-/), kind: 'credit_note' }]);
    expect(body.effects.emails.map((email: { key: string }) => email.key).sort()).toEqual([
      `credit_note:${event.data.object.id}:document:customer`,
      `credit_note:${event.data.object.id}:document:finance`,
    ]);
  });

  test('when a credit note whose document went out is voided, delivered twice at once, then finance is told once and the customer gets nothing more', async () => {
    const invoice = await paid('voided@example.com');
    const note = creditNote({ invoiceId: invoice.id, amount: 900, to: 'balance' });
    await deliverTwiceAndWait(service, stripeEvent('credit_note.created', note));
    const [{ number }] = await creditNoteDocuments(note.id);

    await deliverTwiceAndWait(service, stripeEvent('credit_note.voided', { ...note, status: 'void' }));

    const voided = (await mailsTo(service.config.FINANCE_EMAIL)).filter((mail) => mail.subject === `Credit note voided: ${number}, $9.00 on invoice ${invoice.number}`);
    expect(voided).toHaveLength(1);
    expect((await mailsTo('voided@example.com')).map((mail) => mail.subject)).toEqual([expect.stringMatching(/^Your receipt/), `Your credit note from ${service.config.SELLER_NAME}: $9.00`]);
    expect(await creditNoteDocuments(note.id)).toEqual([{ number, kind: 'credit_note' }]);
  });

  test("when a credit note is voided while its customer's email waits for the mail server, then the customer is not sent it and finance's copy says why", async () => {
    const invoice = await paid('away@example.com');
    const note = creditNote({ invoiceId: invoice.id, amount: 700, to: 'balance' });
    const created = stripeEvent('credit_note.created', note);
    service.smtp.defer('away@example.com');
    const deferredBefore = service.smtp.deferrals();
    const answers = await Promise.all([deliver(service.url, created), deliver(service.url, created)]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    await until(async () => service.smtp.deferrals() > deferredBefore, 20_000);

    await deliverTwiceAndWait(service, stripeEvent('credit_note.voided', { ...note, status: 'void' }));
    service.smtp.undefer('away@example.com');

    expect(await eventStatusWhenDone(service, created.id)).toBe('processed');
    const [{ number }] = await creditNoteDocuments(note.id);
    expect((await mailsTo('away@example.com')).map((mail) => mail.subject)).toEqual([expect.stringMatching(/^Your receipt/)]);
    const issued = await financeMailsAbout(invoice.number);
    expect(issued.map((mail) => mail.attachments.map((a) => a.filename))).toEqual([[`${number}.pdf`]]);
    expect(issued[0].text).toContain('voided in Stripe before this document could be sent: the customer was not sent the credit note');
    const voided = (await mailsTo(service.config.FINANCE_EMAIL)).filter((mail) => mail.subject?.startsWith(`Credit note voided: ${number}`));
    expect(voided).toHaveLength(1);
    const { rows } = await service.database.db.query(`SELECT key, status FROM email_outbox WHERE key LIKE $1 ORDER BY key`, [`credit_note:${note.id}:%`]);
    expect(rows).toEqual([
      { key: `credit_note:${note.id}:document:finance`, status: 'sent' },
      { key: `credit_note:${note.id}:voided:finance`, status: 'sent' },
    ]);
  });

  test("when a credit note is voided after its customer's email went out but before finance's did, then finance's copy does not say the customer was not sent it", async () => {
    const invoice = await paid('sent-first@example.com');
    const note = creditNote({ invoiceId: invoice.id, amount: 600, to: 'balance' });
    const created = stripeEvent('credit_note.created', note);
    service.smtp.defer(service.config.FINANCE_EMAIL);
    const deferredBefore = service.smtp.deferrals();
    await Promise.all([deliver(service.url, created), deliver(service.url, created)]);
    await until(async () => service.smtp.deferrals() > deferredBefore, 20_000);

    // Finance's email of the void waits for the mail server too; the books take the void first.
    const voided = stripeEvent('credit_note.voided', { ...note, status: 'void' });
    await Promise.all([deliver(service.url, voided), deliver(service.url, voided)]);
    await until(async () => (await service.database.db.query('SELECT 1 FROM credit_notes WHERE id = $1 AND voided', [note.id])).rowCount === 1, 20_000);
    service.smtp.undefer(service.config.FINANCE_EMAIL);

    expect([await eventStatusWhenDone(service, created.id), await eventStatusWhenDone(service, voided.id)]).toEqual(['processed', 'processed']);
    expect((await mailsTo('sent-first@example.com')).map((mail) => mail.subject)).toEqual([
      expect.stringMatching(/^Your receipt/),
      `Your credit note from ${service.config.SELLER_NAME}: $6.00`,
    ]);
    const issued = await financeMailsAbout(invoice.number);
    expect(issued).toHaveLength(1);
    expect(issued[0].text).toMatch(/^Customer: [^(\n]+$/m);
  });

  test('when a credit note\'s void arrives before its creation, then it gets no document and nobody is emailed', async () => {
    const invoice = await paid('void-first@example.com');
    const note = creditNote({ invoiceId: invoice.id, amount: 800, to: 'balance' });

    await deliverTwiceAndWait(service, stripeEvent('credit_note.voided', { ...note, status: 'void' }));
    await deliverTwiceAndWait(service, stripeEvent('credit_note.created', note));

    expect(await creditNoteDocuments(note.id)).toEqual([]);
    const { rows } = await service.database.db.query(`SELECT key FROM email_outbox WHERE key LIKE $1`, [`credit_note:${note.id}:%`]);
    expect(rows).toEqual([]);
  });

  test("when a credit note's creation and void arrive at the same time, then either it got no document and nobody was emailed, or finance got its document and was told of the void, and the customer got it only if it went out before the void", async () => {
    const invoice = await paid('at-once@example.com');
    const notes = Array.from({ length: 4 }, () => creditNote({ invoiceId: invoice.id, amount: 300, to: 'balance' }));

    await Promise.all(notes.flatMap((note) => [stripeEvent('credit_note.created', note), stripeEvent('credit_note.voided', { ...note, status: 'void' })].map((event) => deliverTwiceAndWait(service, event))));

    const financeMails = await mailsTo(service.config.FINANCE_EMAIL);
    for (const note of notes) {
      const { rows } = await service.database.db.query(`SELECT key FROM email_outbox WHERE key LIKE $1 ORDER BY key`, [`credit_note:${note.id}:%`]);
      const keys = rows.map((row: { key: string }) => row.key.slice(`credit_note:${note.id}:`.length));
      const documents = await creditNoteDocuments(note.id);
      const customerSent = keys.includes('document:customer');
      const issued = financeMails.filter((mail) => mail.attachments.some((a) => a.filename === `${documents[0]?.number}.pdf`));
      const outcome = {
        documents: documents.length,
        emails: keys,
        financeSaysCustomerNotSent: issued.map((mail) => mail.text?.includes('voided in Stripe before this document could be sent')),
      };
      expect(outcome).toEqual(
        documents.length === 0
          ? { documents: 0, emails: [], financeSaysCustomerNotSent: [] }
          : { documents: 1, emails: [...(customerSent ? ['document:customer'] : []), 'document:finance', 'voided:finance'], financeSaysCustomerNotSent: [!customerSent] },
      );
    }
  });

  test('when finance lists the credit note series, then each document shows its invoice and amount, and whether its note was voided since', async () => {
    const invoice = await paid('register@example.com');
    const [kept, voided] = [creditNote({ invoiceId: invoice.id, amount: 1_500, to: 'balance' }), creditNote({ invoiceId: invoice.id, amount: 2_500, to: 'balance' })];
    for (const note of [kept, voided]) await deliverTwiceAndWait(service, stripeEvent('credit_note.created', note));
    await deliverTwiceAndWait(service, stripeEvent('credit_note.voided', { ...voided, status: 'void' }));

    const { status, body } = await admin(service, `/documents?kind=credit_note&year=${year}&limit=100`);

    expect(status).toBe(200);
    const entries = new Map(body.data.map((entry: Record<string, unknown>) => [entry.credit_note_id, entry]));
    expect(entries.get(kept.id)).toMatchObject({ kind: 'credit_note', invoice_id: invoice.id, amount: 1_500, currency: 'usd', voided: false, payment_id: null });
    expect(entries.get(voided.id)).toMatchObject({ invoice_id: invoice.id, amount: 2_500, voided: true });
    expect(body.data.map((entry: { sequence: number }) => entry.sequence)).toEqual(Array.from({ length: body.data.length }, (_, i) => i + 1));
  });
});
