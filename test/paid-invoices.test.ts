import type { ParsedMail } from 'mailparser';
import { createMailer, type Mailer } from '../src/platform/mailer';
import { paidInvoice } from './support/billing-events';
import { pdfText } from './support/pdf';
import { deliverTwiceAndWait, eventStatusWhenDone, startTestService, testAdminKey, type TestService } from './support/service';
import { deliver, stripeEvent, stripeObject } from './support/stripe-events';

let service: TestService;
/** Set by a test to make the next email to this address fail once, after earlier ones went out. */
let failNextMailTo: string | undefined;

/** The real SMTP mailer, failing once on request. */
function failingOnRequest(smtpUrl: string): Mailer {
  const real = createMailer(smtpUrl);
  return {
    async sendMail(message) {
      if (failNextMailTo && message.to === failNextMailTo) {
        failNextMailTo = undefined;
        throw new Error('SMTP connection lost (injected by the test)');
      }
      return real.sendMail(message);
    },
  };
}

beforeAll(async () => {
  service = await startTestService({ overrides: { FINANCE_EMAIL: 'finance@example.com' }, mailer: failingOnRequest });
});

afterAll(async () => {
  await service?.stop();
});


const db = () => service.database.db;

async function rowsOf(sql: string, params: unknown[] = []) {
  return (await db().query(sql, params)).rows;
}

function mailsAbout(invoiceNumber: string): ParsedMail[] {
  return service.smtp.messages.filter((mail) => mail.text?.includes(invoiceNumber));
}

async function trialBalance(): Promise<any> {
  const response = await fetch(`${service.url}/admin/ledger/balance`, { headers: { authorization: `Bearer ${testAdminKey}` } });
  return response.json();
}

describe('a paid invoice', () => {
  test('when invoice.paid arrives, then one payment, a receipt and an invoice PDF, one email each to customer and finance, and a balanced ledger', async () => {
    const invoice = paidInvoice({ subtotal: 10_000, tax: 2_000 });

    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice));

    const payments = await rowsOf('SELECT id, amount::int, currency FROM payments WHERE invoice_id = $1', [invoice.id]);
    expect(payments).toEqual([{ id: expect.any(String), amount: 12_000, currency: 'usd' }]);
    const documents = await rowsOf('SELECT number FROM documents ORDER BY kind DESC');
    const year = new Date().getUTCFullYear();
    expect(documents.map((d) => d.number)).toEqual([`R-${year}-000001`, `INV-${year}-000001`]);

    await service.smtp.waitForMessages(2);
    const toCustomer = service.smtp.to('ada@example.com').filter((m) => mailsAbout(invoice.number).includes(m));
    const toFinance = service.smtp.to('finance@example.com').filter((m) => mailsAbout(invoice.number).includes(m));
    expect(toCustomer).toHaveLength(1);
    expect(toFinance).toHaveLength(1);
    for (const mail of [...toCustomer, ...toFinance]) {
      expect(mail.attachments.map((a) => a.filename)).toEqual([`R-${year}-000001.pdf`, `INV-${year}-000001.pdf`]);
      for (const attachment of mail.attachments) {
        const text = await pdfText(attachment.content);
        expect(text).toContain(attachment.filename!.replace('.pdf', ''));
        expect(text).toContain('$120.00');
      }
    }

    const balance = await trialBalance();
    expect(balance.balanced).toBe(true);
    expect(balance.accounts).toEqual(
      expect.arrayContaining([
        { account: 'accounts_receivable', currency: 'usd', debit: 12_000, credit: 12_000 },
        { account: 'revenue', currency: 'usd', debit: 0, credit: 10_000 },
        { account: 'tax_payable', currency: 'usd', debit: 0, credit: 2_000 },
        { account: 'stripe_balance', currency: 'usd', debit: 12_000, credit: 0 },
      ]),
    );
  });

  test('when both paid events arrive 3 times each, many concurrently, then there is still exactly one of everything', async () => {
    const invoice = paidInvoice({ subtotal: 4_900 });
    const paid = stripeEvent('invoice.paid', invoice);
    const succeeded = stripeEvent('invoice.payment_succeeded', invoice);
    const mailsBefore = service.smtp.messages.length;

    const concurrent = await Promise.all(
      [paid, succeeded, paid, succeeded, paid, succeeded, paid, succeeded, paid, succeeded].map((e) => deliver(service.url, e)),
    );
    await eventStatusWhenDone(service, paid.id);
    await eventStatusWhenDone(service, succeeded.id);
    const late = [await deliver(service.url, paid), await deliver(service.url, succeeded)];

    expect([...concurrent, ...late].every((a) => a.status === 200)).toBe(true);
    const [payment] = await rowsOf('SELECT id FROM payments WHERE invoice_id = $1', [invoice.id]);
    expect(await rowsOf('SELECT count(*)::int AS n FROM payments WHERE invoice_id = $1', [invoice.id])).toEqual([{ n: 1 }]);
    expect(await rowsOf('SELECT kind FROM documents WHERE payment_id = $1 ORDER BY kind', [payment.id])).toEqual([
      { kind: 'invoice' },
      { kind: 'receipt' },
    ]);
    expect(await rowsOf(`SELECT count(*)::int AS n FROM ledger_entries WHERE reference = $1`, [invoice.id])).toEqual([{ n: 2 }]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(service.smtp.messages.length - mailsBefore).toBe(2);
    expect(mailsAbout(invoice.number)).toHaveLength(2);
  });

  test('when sending fails after the customer email went out and the activity is retried, then no email is sent twice', async () => {
    const invoice = paidInvoice({ subtotal: 3_000 });
    failNextMailTo = 'finance@example.com';

    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice));

    expect(failNextMailTo).toBeUndefined();
    expect(service.smtp.to('ada@example.com').filter((m) => mailsAbout(invoice.number).includes(m))).toHaveLength(1);
    expect(service.smtp.to('finance@example.com').filter((m) => mailsAbout(invoice.number).includes(m))).toHaveLength(1);
  });

  test('when the customer has no email, then the documents exist and finance still gets its copy', async () => {
    const invoice = paidInvoice({ subtotal: 1_500, customerEmail: null });

    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice));

    const mails = mailsAbout(invoice.number);
    expect(mails).toHaveLength(1);
    expect(mails[0].to).toMatchObject({ text: 'finance@example.com' });
  });

  test.each([
    ['after the invoice was finalized', 30, 'changed-to@example.com'],
    ['before the invoice was finalized, arriving late', -30, 'on-the-invoice@example.com'],
  ])('when a customer event %s gives the customer another email, then the receipt goes to the address that is newer', async (_, secondsAfterFinalization, receivedBy) => {
    const customerId = `cus_receipt_${secondsAfterFinalization}_${Date.now()}`;
    const invoice: Record<string, any> = { ...paidInvoice({ subtotal: 1_700, customerEmail: 'on-the-invoice@example.com' }), customer: customerId };
    const created = invoice.status_transitions.finalized_at + secondsAfterFinalization;
    await deliverTwiceAndWait(service, stripeEvent('customer.updated', stripeObject('customer', { id: customerId, email: 'changed-to@example.com' }), { created }));

    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice));

    const recipients = mailsAbout(invoice.number).map((mail) => (Array.isArray(mail.to) ? '' : mail.to?.text));
    expect(recipients.sort()).toEqual(['finance@example.com', receivedBy].sort());
  });

  test('when the same payment arrives in an old and a new API version shape, then both record the same payment', async () => {
    const newShape = paidInvoice({ shape: 'new', subtotal: 2_500 });
    const oldShape = { ...paidInvoice({ shape: 'old', subtotal: 2_500 }), id: newShape.id, number: newShape.number };

    await deliverTwiceAndWait(service, stripeEvent('invoice.payment_succeeded', oldShape, { api_version: '2024-06-20' }));
    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', newShape, { api_version: '2025-09-30.clover' }));

    expect(
      await rowsOf('SELECT amount::int, subscription_id, charge_id, payment_intent_id FROM payments WHERE invoice_id = $1', [newShape.id]),
    ).toEqual([{ amount: 2_500, subscription_id: 'sub_test_1', charge_id: 'ch_test_1', payment_intent_id: 'pi_test_1' }]);
  });

  test.each([
    ['sepa_debit', { last4: '3000', bank_code: '37040044' }, 'SEPA Direct Debit •••• 3000'],
    ['us_bank_account', { last4: '6789', bank_name: 'STRIPE TEST BANK' }, 'STRIPE TEST BANK •••• 6789'],
  ])('when the invoice was paid by %s, then the payment and the receipt name the bank account by its last 4', async (type, details, shown) => {
    const invoice = paidInvoice({ shape: 'old', subtotal: 3_300 });
    invoice.charge = { id: `ch_${type}_${invoice.id}`, object: 'charge', payment_method_details: { type, [type]: details } };

    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice));

    const [payment] = await rowsOf('SELECT payment_method FROM payments WHERE invoice_id = $1', [invoice.id]);
    expect(payment.payment_method).toBe(shown);
    const [receipt] = await rowsOf(
      `SELECT d.pdf FROM documents d JOIN payments p ON p.id = d.payment_id WHERE p.invoice_id = $1 AND d.kind = 'receipt'`,
      [invoice.id],
    );
    expect(await pdfText(receipt.pdf)).toContain(shown);
  });

  test.each([
    ['jpy', 1_000, '¥1,000'],
    ['kwd', 1_500, 'KWD 1.500'],
  ])('when the invoice is in %s, then the documents show the amount in its own minor units', async (currency, amount, shown) => {
    const invoice = paidInvoice({ currency, subtotal: amount });

    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice));

    const [receipt] = await rowsOf(
      `SELECT d.number, d.pdf FROM documents d JOIN payments p ON p.id = d.payment_id WHERE p.invoice_id = $1 AND d.kind = 'receipt'`,
      [invoice.id],
    );
    expect(await pdfText(receipt.pdf)).toContain(shown);
    const response = await fetch(`${service.url}/admin/documents/${receipt.number}`, {
      headers: { authorization: `Bearer ${testAdminKey}` },
    });
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await response.arrayBuffer()).equals(receipt.pdf)).toBe(true);
  });

  test('when the customer paid more than was due, then the emailed receipt shows what was paid and the credit it left on their balance', async () => {
    const invoice = { ...paidInvoice({ subtotal: 10_000, customerEmail: 'overpaid@example.com' }), amount_paid: 12_000, amount_overpaid: 2_000 };

    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice));

    const mails = service.smtp.to('overpaid@example.com');
    expect(mails).toHaveLength(1);
    const receipt = await pdfText(mails[0].attachments[0].content);
    expect(receipt).toMatch(/Amount paid\s*\$120\.00/);
    expect(receipt).toMatch(/Overpaid, credited to your balance\s*\$20\.00/);
  });

  test('when an invoice is not paid yet, then invoice.paid records nothing', async () => {
    const invoice = paidInvoice({ status: 'open' });

    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice));

    expect(await rowsOf('SELECT id FROM payments WHERE invoice_id = $1', [invoice.id])).toEqual([]);
  });
});

describe('the subscription period', () => {
  test('when paid invoices arrive out of order, then the subscription is paid through the latest period', async () => {
    const month = 30 * 24 * 3600;
    const start = 1_790_000_000;
    const later = paidInvoice({ period: { start: start + month, end: start + 2 * month } });
    const earlier = paidInvoice({ period: { start, end: start + month } });

    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', later));
    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', earlier));

    expect(await rowsOf(`SELECT extract(epoch FROM paid_through)::int AS paid_through FROM subscriptions WHERE id = 'sub_test_1'`)).toEqual([
      { paid_through: start + 2 * month },
    ]);
  });
});

describe('an invoice event that cannot be read', () => {
  test('when invoice.paid carries no currency, then the event is failed with the reason, without retries, and nothing is recorded', async () => {
    const broken: Record<string, any> = { ...paidInvoice(), currency: undefined };
    const event = stripeEvent('invoice.paid', broken);

    const answer = await deliver(service.url, event);

    expect(answer.status).toBe(200);
    expect(await eventStatusWhenDone(service, event.id)).toBe('failed');
    const [row] = await rowsOf('SELECT attempts, last_error FROM stripe_events WHERE id = $1', [event.id]);
    expect(row).toEqual({ attempts: 1, last_error: expect.stringContaining('invoice.currency is not a currency code') });
    expect((await service.temporal.workflow.getHandle(event.id).describe()).status.name).toBe('FAILED');
    expect(await rowsOf('SELECT id FROM payments WHERE invoice_id = $1', [broken.id])).toEqual([]);
  });

  test('when invoice.paid says more was overpaid than was paid at all, then the event is failed naming both, and nothing is recorded', async () => {
    const broken: Record<string, any> = { ...paidInvoice({ subtotal: 5_000 }), amount_overpaid: 9_000 };
    const event = stripeEvent('invoice.paid', broken);

    await deliver(service.url, event);

    expect(await eventStatusWhenDone(service, event.id)).toBe('failed');
    const [row] = await rowsOf('SELECT last_error FROM stripe_events WHERE id = $1', [event.id]);
    expect(row.last_error).toContain('invoice.amount_overpaid (9000) is not a part of invoice.amount_paid (5000)');
    expect(await rowsOf('SELECT id FROM payments WHERE invoice_id = $1', [broken.id])).toEqual([]);
    expect(await rowsOf('SELECT id FROM ledger_entries WHERE reference = $1', [broken.id])).toEqual([]);
  });
});

describe('GET /admin/payments', () => {
  test('when payments exist, then they are listed with their documents, filtered by invoice', async () => {
    const invoice = paidInvoice({ subtotal: 700 });
    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice));

    const response = await fetch(`${service.url}/admin/payments?invoice=${invoice.id}`, {
      headers: { authorization: `Bearer ${testAdminKey}` },
    });

    expect(await response.json()).toEqual({
      data: [
        {
          id: expect.any(Number),
          invoice_id: invoice.id,
          customer_id: 'cus_test_paying',
          amount: 700,
          currency: 'usd',
          paid_at: expect.any(String),
          charge_id: 'ch_test_1',
          payment_intent_id: 'pi_test_1',
          payment_method: null,
          documents: [expect.stringMatching(/^R-\d{4}-\d{6}$/), expect.stringMatching(/^INV-\d{4}-\d{6}$/)],
        },
      ],
      next_cursor: null,
    });
  });

  test('when the admin key is wrong, then 401', async () => {
    const response = await fetch(`${service.url}/admin/payments`, { headers: { authorization: 'Bearer nope' } });

    expect(response.status).toBe(401);
  });
});
