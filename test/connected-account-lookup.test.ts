import { connectedAccount, paidInvoice } from './support/billing-events';
import { pdfText } from './support/pdf';
import { deliverTwiceAndWait } from './support/service';
import { useServiceWithRecordedStripe } from './support/stripe-recorder';
import { stripeEvent } from './support/stripe-events';

/**
 * With a Stripe key, a connected account no `account.updated` has described (one connected
 * before the service listened) is looked up from Stripe once, so its documents name it.
 */

const environment = useServiceWithRecordedStripe();

async function receiptText(invoiceId: string): Promise<string> {
  const { rows } = await environment.service.database.db.query(
    "SELECT d.pdf FROM documents d JOIN payments p ON p.id = d.payment_id WHERE p.invoice_id = $1 AND d.kind = 'receipt'",
    [invoiceId],
  );
  return pdfText(rows[0].pdf);
}

const lookups = (account: string) => environment.stripe.calls.filter((call) => call === `GET /v1/accounts/${account}`);

test('when no event described a connected account, then Stripe is asked for it once and its documents and receipt email name it', async () => {
  environment.stripe.setAccount('acct_testLookedUp', connectedAccount('acct_testLookedUp', 'Old Town Florist GmbH'));
  const first = paidInvoice({ customerEmail: 'florist-buyer@example.com' });
  const second = paidInvoice({ customerEmail: 'florist-buyer@example.com' });

  await deliverTwiceAndWait(environment.service, stripeEvent('invoice.paid', first, { account: 'acct_testLookedUp' }));
  await deliverTwiceAndWait(environment.service, stripeEvent('invoice.paid', second, { account: 'acct_testLookedUp' }));

  for (const invoice of [first, second]) {
    const text = await receiptText(invoice.id);
    expect(text).toContain('Old Town Florist GmbH');
    expect(text).toContain('support@acct_testLookedUp.example');
  }
  expect(environment.service.smtp.to('florist-buyer@example.com').map((mail) => mail.subject)).toEqual([
    'Your receipt from Old Town Florist GmbH: $100.00',
    'Your receipt from Old Town Florist GmbH: $100.00',
  ]);
  expect(lookups('acct_testLookedUp')).toHaveLength(1);
});

test('when Stripe refuses to describe the account, then the documents name it as the invoice does and the receipt still goes out', async () => {
  environment.stripe.setAccount('acct_testRefused', null);
  const invoice: Record<string, any> = { ...paidInvoice({ customerEmail: 'refused-buyer@example.com' }), account_name: 'Harbour Kiosk Ltd' };

  await deliverTwiceAndWait(environment.service, stripeEvent('invoice.paid', invoice, { account: 'acct_testRefused' }));

  expect(await receiptText(invoice.id)).toContain('Harbour Kiosk Ltd');
  expect(environment.service.smtp.to('refused-buyer@example.com').map((mail) => mail.subject)).toEqual(['Your receipt from Harbour Kiosk Ltd: $100.00']);
  expect(lookups('acct_testRefused').length).toBeGreaterThan(0);
});

test('when an account.updated newer than the lookup arrives, then it replaces the looked-up details', async () => {
  environment.stripe.setAccount('acct_testRenamedLater', connectedAccount('acct_testRenamedLater', 'First Name Ltd'));
  await deliverTwiceAndWait(environment.service, stripeEvent('invoice.paid', paidInvoice(), { account: 'acct_testRenamedLater' }));

  await deliverTwiceAndWait(environment.service, stripeEvent('account.updated', connectedAccount('acct_testRenamedLater', 'Second Name Ltd'), { account: 'acct_testRenamedLater', created: Math.floor(Date.now() / 1000) + 5 }));
  const later = paidInvoice();
  await deliverTwiceAndWait(environment.service, stripeEvent('invoice.paid', later, { account: 'acct_testRenamedLater' }));

  expect(await receiptText(later.id)).toContain('Second Name Ltd');
});
