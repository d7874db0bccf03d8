import { connectedAccount, paidInvoice } from './support/billing-events';
import { pdfText } from './support/pdf';
import { deliverTwiceAndWait, startTestService, type TestService } from './support/service';
import { stripeEvent } from './support/stripe-events';

let service: TestService;

beforeAll(async () => {
  service = await startTestService();
});

afterAll(async () => {
  await service?.stop();
});

/** The text of both documents of an invoice's payment, receipt first. */
async function documentTexts(invoiceId: string): Promise<string[]> {
  const { rows } = await service.database.db.query(
    `SELECT d.pdf FROM documents d JOIN payments p ON p.id = d.payment_id WHERE p.invoice_id = $1 ORDER BY d.kind DESC`,
    [invoiceId],
  );
  expect(rows).toHaveLength(2);
  return Promise.all(rows.map((row) => pdfText(row.pdf)));
}

const platformDetails = ['Example Inc.', '1 Example Street', 'billing@example.com'];

test('when a connected account described itself before its invoice was paid, then both documents and the receipt email name it as the seller, not the platform', async () => {
  await deliverTwiceAndWait(service, stripeEvent('account.updated', connectedAccount('acct_bakery', 'Berlin Bakery GmbH'), { account: 'acct_bakery' }));
  const invoice = paidInvoice({ customerEmail: 'bakery-buyer@example.com' });

  await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice, { account: 'acct_bakery' }));

  for (const text of await documentTexts(invoice.id)) {
    expect(text).toContain('Berlin Bakery GmbH');
    expect(text).toContain('9 Market Lane, 10115 Berlin, DE');
    expect(text).toContain('support@acct_bakery.example');
    for (const detail of platformDetails) expect(text).not.toContain(detail);
  }
  const mails = service.smtp.to('bakery-buyer@example.com');
  expect(mails.map((m) => m.subject)).toEqual(['Your receipt from Berlin Bakery GmbH: $100.00']);
  expect(mails[0].text).not.toContain('Example Inc.');
  const [financeCopy] = service.smtp.to(service.config.FINANCE_EMAIL).filter((m) => m.subject?.includes('Berlin Bakery GmbH'));
  expect(financeCopy.subject).toBe('Payment received by Berlin Bakery GmbH: $100.00 from Ada Lovelace');
  expect(financeCopy.text).toContain('Seller: Berlin Bakery GmbH, connected account acct_bakery (its own books)');
});

test('when no account.updated came for the account, then the documents name it as the invoice does (account_name)', async () => {
  const invoice: Record<string, any> = { ...paidInvoice(), account_name: 'Corner Shop LLC', account_country: 'US' };

  await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice, { account: 'acct_corner' }));

  for (const text of await documentTexts(invoice.id)) {
    expect(text).toContain('Corner Shop LLC');
    for (const detail of platformDetails) expect(text).not.toContain(detail);
  }
});

test('when an older account.updated arrives after a newer one, then the documents keep the newer name', async () => {
  const now = Math.floor(Date.now() / 1000);
  await deliverTwiceAndWait(service, stripeEvent('account.updated', connectedAccount('acct_renamed', 'New Name Ltd'), { account: 'acct_renamed', created: now }));
  await deliverTwiceAndWait(service, stripeEvent('account.updated', connectedAccount('acct_renamed', 'Old Name Ltd'), { account: 'acct_renamed', created: now - 60 }));
  const invoice = paidInvoice();

  await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice, { account: 'acct_renamed' }));

  const [receipt] = await documentTexts(invoice.id);
  expect(receipt).toContain('New Name Ltd');
  expect(receipt).not.toContain('Old Name Ltd');
});

test('when an account.updated carries details of the wrong shape, then it is processed and the documents fall back to the invoice\'s name', async () => {
  const malformed = connectedAccount('acct_malformed', 'ignored');
  malformed.business_profile = { ...malformed.business_profile, name: 42, support_address: 'somewhere', support_email: { at: 'x' } };
  const updated = stripeEvent('account.updated', malformed, { account: 'acct_malformed' });
  const invoice: Record<string, any> = { ...paidInvoice(), account_name: 'Fallback Traders' };

  await deliverTwiceAndWait(service, updated);
  await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice, { account: 'acct_malformed' }));

  const [receipt] = await documentTexts(invoice.id);
  expect(receipt).toContain('Fallback Traders');
  expect(receipt).not.toContain('somewhere');
});

test('when the platform\'s own invoice is paid, then its documents name the configured seller', async () => {
  await deliverTwiceAndWait(service, stripeEvent('account.updated', connectedAccount('acct_elsewhere', 'Somebody Else AG'), { account: 'acct_elsewhere' }));
  const invoice: Record<string, any> = { ...paidInvoice(), account_name: 'Stripe sample name' };

  await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice));

  for (const text of await documentTexts(invoice.id)) {
    for (const detail of platformDetails) expect(text).toContain(detail);
    expect(text).not.toContain('Somebody Else AG');
  }
});

test('when the platform\'s invoice is presented as a connected account (on_behalf_of), then the documents and receipt name that account, numbered and booked as the platform\'s', async () => {
  await deliverTwiceAndWait(service, stripeEvent('account.updated', connectedAccount('acct_onbehalf', 'Riverside Studio SARL'), { account: 'acct_onbehalf' }));
  const invoice: Record<string, any> = { ...paidInvoice({ customerEmail: 'studio-buyer@example.com' }), on_behalf_of: 'acct_onbehalf' };

  await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice));

  for (const text of await documentTexts(invoice.id)) {
    expect(text).toContain('Riverside Studio SARL');
    expect(text).toContain('support@acct_onbehalf.example');
    for (const detail of platformDetails) expect(text).not.toContain(detail);
  }
  const { rows } = await service.database.db.query('SELECT d.number, p.account FROM documents d JOIN payments p ON p.id = d.payment_id WHERE p.invoice_id = $1', [invoice.id]);
  for (const row of rows) expect(row).toEqual({ number: expect.stringMatching(/^(R|INV)-\d{4}-\d{6}$/), account: null });
  expect(service.smtp.to('studio-buyer@example.com').map((m) => m.subject)).toEqual(['Your receipt from Riverside Studio SARL: $100.00']);
  const [financeCopy] = service.smtp.to(service.config.FINANCE_EMAIL).filter((m) => m.subject?.includes('Riverside Studio SARL'));
  expect(financeCopy.subject).toBe('Payment received on behalf of Riverside Studio SARL: $100.00 from Ada Lovelace');
  expect(financeCopy.text).toContain("Presented as: Riverside Studio SARL, connected account acct_onbehalf (on behalf of it; the platform's books)");
});

test('when an invoice names a connected account as its issuer and nothing else describes the account, then the documents name it as the invoice does', async () => {
  const invoice: Record<string, any> = { ...paidInvoice(), issuer: { type: 'account', account: 'acct_issuerOnly' }, account_name: 'Issuer Only GmbH' };

  await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice));

  for (const text of await documentTexts(invoice.id)) {
    expect(text).toContain('Issuer Only GmbH');
    for (const detail of platformDetails) expect(text).not.toContain(detail);
  }
});
