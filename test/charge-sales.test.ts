import { capturedCharge, chargeWithRefunds, paidInvoice } from './support/billing-events';
import { expectBalanced, movements } from './support/ledger';
import { admin, deliverTwiceAndWait, eventStatusWhenDone } from './support/service';
import { useServiceWithRecordedStripe } from './support/stripe-recorder';
import { deliver, stripeEvent } from './support/stripe-events';
import type { StripeEvent } from '../src/platform/stripe-event';

/**
 * The rule for charges outside invoices: a captured charge that pays no invoice is a sale of its
 * own, so its refunds and disputes are booked against a sale that is in the books. A charge that
 * pays an invoice is booked once, through the invoice's payment.
 */

const environment = useServiceWithRecordedStripe();

async function deliverAll(events: StripeEvent[]) {
  for (const event of events) await deliverTwiceAndWait(environment.service, event);
}

const paymentIntentLookups = () => environment.stripe.calls.filter((call) => call === 'GET /v1/invoice_payments').length;

test.each(['sale first', 'refund first'])(
  'when a charge outside invoices is captured and then partly refunded (%s), then the sale is revenue and the Stripe balance holds what is left',
  async (order) => {
    const charge = capturedCharge({ amount: 5_000, invoice: null });
    const refunded = chargeWithRefunds(charge.id, 5_000, [{ id: `re_${charge.id}`, amount: 1_200 }]);
    const events = [stripeEvent('charge.succeeded', charge), stripeEvent('charge.refunded', { ...charge, ...refunded, amount_captured: 5_000, captured: true })];

    await deliverAll(order === 'sale first' ? events : events.reverse());

    expect(await movements(environment.service, charge.id)).toEqual({ revenue: -5_000, refunds: 1_200, stripe_balance: 3_800 });
    await expectBalanced(environment.service);
  },
);

test('when a charge says it pays an invoice, then only the invoice payment books the cash', async () => {
  const chargeId = `ch_test_invoiced_${Date.now()}`;
  const invoice = paidInvoice({ subtotal: 2_500, chargeId });
  const charge = { ...capturedCharge({ amount: 2_500, invoice: invoice.id }), id: chargeId };

  await deliverAll([stripeEvent('charge.succeeded', charge), stripeEvent('invoice.paid', invoice)]);

  expect(await movements(environment.service, charge.id)).toEqual({});
  expect(await movements(environment.service, invoice.id)).toEqual({ revenue: -2_500, stripe_balance: 2_500 });
});

test('when a newer payload leaves the invoice out and Stripe lists no invoice payment for its payment intent, then the charge is a sale', async () => {
  const charge = capturedCharge({ amount: 900 });
  const before = paymentIntentLookups();

  await deliverTwiceAndWait(environment.service, stripeEvent('charge.succeeded', charge, { api_version: '2025-03-31.basil' }));

  expect(paymentIntentLookups()).toBeGreaterThan(before);
  expect(await movements(environment.service, charge.id)).toEqual({ revenue: -900, stripe_balance: 900 });
});

test('when a newer payload leaves the invoice out and Stripe lists an invoice payment for its payment intent, then the charge books nothing of its own', async () => {
  const charge = capturedCharge({ amount: 1_100 });
  environment.stripe.setInvoicePayment(`in_test_paid_by_${charge.id}`, charge.payment_intent);

  await deliverTwiceAndWait(environment.service, stripeEvent('charge.succeeded', charge, { api_version: '2025-03-31.basil' }));

  expect(await movements(environment.service, charge.id)).toEqual({});
});

test('when a charge is only authorized and later captured in part, then the sale is what was captured', async () => {
  const authorized: Record<string, any> = { ...capturedCharge({ amount: 3_000, invoice: null }), captured: false, amount_captured: 0 };
  const captured = { ...authorized, captured: true, amount_captured: 2_000 };

  await deliverTwiceAndWait(environment.service, stripeEvent('charge.succeeded', authorized));
  expect(await movements(environment.service, authorized.id)).toEqual({});
  await deliverTwiceAndWait(environment.service, stripeEvent('charge.captured', captured));

  expect(await movements(environment.service, authorized.id)).toEqual({ revenue: -2_000, stripe_balance: 2_000 });
});

test('when a connected account sells outside invoices, then Stripe is asked as that account, and the sale is in its books and not in the platform\'s', async () => {
  const account = `acct_${Date.now()}sales`;
  const charge = capturedCharge({ amount: 700 });

  await deliverTwiceAndWait(environment.service, stripeEvent('charge.succeeded', charge, { account, api_version: '2025-03-31.basil' }));

  expect(environment.stripe.accounts[environment.stripe.calls.lastIndexOf('GET /v1/invoice_payments')]).toBe(account);
  const connected = await admin(environment.service, `/ledger/balance?account=${account}`);
  expect(connected.body.accounts).toEqual([
    { account: 'revenue', currency: 'usd', debit: 0, credit: 700 },
    { account: 'stripe_balance', currency: 'usd', debit: 700, credit: 0 },
  ]);
  expect(connected.body.balanced).toBe(true);
  const platform = await admin(environment.service, '/ledger/balance?account=platform');
  const all = await admin(environment.service, '/ledger/balance');
  const revenue = (body: any) => body.accounts.find((a: any) => a.account === 'revenue' && a.currency === 'usd')?.credit ?? 0;
  expect(revenue(all.body) - revenue(platform.body)).toBe(700);
});

test('when the books asked for are not an account id, then the answer is 400 naming the parameter', async () => {
  const { status, body } = await admin(environment.service, '/ledger/balance?account=customer_1');

  expect(status).toBe(400);
  expect(body.error.message).toBe('account must be a connected account id (acct_…) or platform.');
});

describe('a payment intent attached to an invoice after its charge was booked as a sale (attach_payment)', () => {
  test('when the invoice is paid by it later (newer payloads: Stripe lists the invoice payment by then), then the sale is taken back and the invoice\'s payment alone books the cash', async () => {
    const charge = capturedCharge({ amount: 2_400 });
    await deliverTwiceAndWait(environment.service, stripeEvent('charge.succeeded', charge, { api_version: '2025-03-31.basil' }));
    expect(await movements(environment.service, charge.id)).toEqual({ revenue: -2_400, stripe_balance: 2_400 });
    const { payments: _asked_of_stripe, ...invoice } = paidInvoice({ subtotal: 2_400 });
    environment.stripe.setInvoicePayment(invoice.id, charge.payment_intent);

    await deliverTwiceAndWait(environment.service, stripeEvent('invoice.paid', invoice, { api_version: '2025-03-31.basil' }));

    expect(await movements(environment.service, charge.id)).toEqual({});
    expect(await movements(environment.service, invoice.id)).toEqual({ revenue: -2_400, stripe_balance: 2_400 });
    await expectBalanced(environment.service);
  });

  test.each(['sale first', 'invoice first'])(
    'when an older payload says the charge pays no invoice and the invoice then names it (%s), then its cash is booked once, by the invoice',
    async (order) => {
      const charge = capturedCharge({ amount: 1_900, invoice: null });
      const invoice = paidInvoice({ subtotal: 1_900, chargeId: charge.id, shape: 'old' });
      const events = [stripeEvent('charge.succeeded', charge), stripeEvent('invoice.paid', invoice)];

      await deliverAll(order === 'sale first' ? events : events.reverse());

      expect(await movements(environment.service, charge.id)).toEqual({});
      expect(await movements(environment.service, invoice.id)).toEqual({ revenue: -1_900, stripe_balance: 1_900 });
    },
  );

  test('when the charge and the invoice that names it arrive at the same moment, each twice, then each charge\'s cash is booked once', async () => {
    const pairs = Array.from({ length: 4 }, (_, n) => {
      const charge = capturedCharge({ amount: 1_000 + n, invoice: null });
      return { charge, invoice: paidInvoice({ subtotal: 1_000 + n, chargeId: charge.id, shape: 'old' }) };
    });
    const events = pairs.flatMap(({ charge, invoice }) => [stripeEvent('charge.succeeded', charge), stripeEvent('invoice.paid', invoice)]);

    await Promise.all([...events, ...events].map((event) => deliver(environment.service.url, event)));
    for (const event of events) expect(await eventStatusWhenDone(environment.service, event.id)).toBe('processed');

    for (const { charge, invoice } of pairs) {
      expect(await movements(environment.service, charge.id)).toEqual({});
      expect(await movements(environment.service, invoice.id)).toEqual({ revenue: -invoice.total, stripe_balance: invoice.total });
    }
    await expectBalanced(environment.service);
  });

  test('when the charge was refunded as a sale before the invoice named it, then the refund takes the invoice\'s tax share', async () => {
    const charge = capturedCharge({ amount: 12_000, invoice: null });
    const refunded = { ...charge, ...chargeWithRefunds(charge.id, 12_000, [{ id: `re_${charge.id}`, amount: 3_000 }]), payment_intent: charge.payment_intent, invoice: null, captured: true, amount_captured: 12_000 };
    await deliverAll([stripeEvent('charge.succeeded', charge), stripeEvent('charge.refunded', refunded)]);

    const invoice = paidInvoice({ subtotal: 10_000, tax: 2_000, chargeId: charge.id, shape: 'old' });
    await deliverTwiceAndWait(environment.service, stripeEvent('invoice.paid', invoice));

    expect(await movements(environment.service, charge.id)).toEqual({ refunds: 2_500, tax_payable: 500, stripe_balance: -3_000 });
    expect(await movements(environment.service, invoice.id)).toEqual({ revenue: -10_000, tax_payable: -2_000, stripe_balance: 12_000 });
  });
});
