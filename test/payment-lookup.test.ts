import { chargeWithRefunds, paidInvoice } from './support/billing-events';
import { pdfText } from './support/pdf';
import { movements } from './support/ledger';
import { admin, deliverTwiceAndWait, testAdminKey } from './support/service';
import { useServiceWithRecordedStripe } from './support/stripe-recorder';
import { stripeEvent } from './support/stripe-events';

/**
 * Newer API versions leave out what paid an invoice, and every version embeds only an invoice's
 * first lines; with a key, the rest is asked of Stripe.
 */

const environment = useServiceWithRecordedStripe();

test('when a paid invoice names neither charge nor payment intent, then its payment intent, charge and card come from Stripe and the receipt shows the card', async () => {
  const { payments: _left_out, ...invoice } = paidInvoice({ subtotal: 2_000 });
  environment.stripe.setInvoicePayment(invoice.id, 'pi_lookup_1');

  await deliverTwiceAndWait(environment.service, stripeEvent('invoice.paid', invoice));

  const { body } = await admin(environment.service, `/payments?invoice=${invoice.id}`);
  expect(body.data).toHaveLength(1);
  expect(body.data[0]).toMatchObject({ payment_intent_id: 'pi_lookup_1', charge_id: expect.stringMatching(/^ch_/), payment_method: 'VISA •••• 4242' });
  const receipt = await fetch(`${environment.service.url}/admin/documents/${body.data[0].documents.find((n: string) => n.startsWith('R-'))}`, {
    headers: { authorization: `Bearer ${testAdminKey}` },
  });
  expect(await pdfText(Buffer.from(await receipt.arrayBuffer()))).toContain('VISA •••• 4242');
  expect(environment.stripe.calls).toContain('GET /v1/invoice_payments');
});

test('when the invoice names its payment, then Stripe is not asked', async () => {
  const invoice = paidInvoice({ subtotal: 2_100, chargeId: 'ch_named_1' });
  const before = environment.stripe.calls.filter((call) => call === 'GET /v1/invoice_payments').length;

  await deliverTwiceAndWait(environment.service, stripeEvent('invoice.paid', invoice));

  const { body } = await admin(environment.service, `/payments?invoice=${invoice.id}`);
  expect(body.data[0]).toMatchObject({ charge_id: 'ch_named_1' });
  expect(environment.stripe.calls.filter((call) => call === 'GET /v1/invoice_payments')).toHaveLength(before);
});

test('when the event carries only an invoice\'s first ten lines, then the rest are listed from Stripe once and the receipt shows every line', async () => {
  const base = paidInvoice({ subtotal: 1_200 });
  const lines = Array.from({ length: 12 }, (_, index) => ({ id: `il_seat_${index + 1}`, object: 'line_item', amount: 100, currency: 'usd', description: `Seat ${index + 1}`, quantity: 1 }));
  const invoice: Record<string, any> = { ...base, lines: { object: 'list', data: lines.slice(0, 10), has_more: true, total_count: 12, url: `/v1/invoices/${base.id}/lines` } };
  environment.stripe.setInvoiceLines(invoice.id, lines);
  const listings = () => environment.stripe.calls.filter((call) => call === `GET /v1/invoices/${invoice.id}/lines`).length;

  await deliverTwiceAndWait(environment.service, stripeEvent('invoice.paid', invoice));
  await deliverTwiceAndWait(environment.service, stripeEvent('invoice.payment_succeeded', invoice));

  const { body } = await admin(environment.service, `/payments?invoice=${invoice.id}`);
  expect(body.data).toHaveLength(1);
  const receipt = await fetch(`${environment.service.url}/admin/documents/${body.data[0].documents.find((n: string) => n.startsWith('R-'))}`, {
    headers: { authorization: `Bearer ${testAdminKey}` },
  });
  const text = await pdfText(Buffer.from(await receipt.arrayBuffer()));
  expect(text).toContain('Seat 11');
  expect(text).toContain('Seat 12');
  expect(text).not.toContain('more line items');
  // Three pages of five, asked for the first event only: the second found the payment recorded.
  expect(listings()).toBe(3);
});

describe('paid outside Stripe (amount_paid_off_stripe, which Stripe leaves out of events)', () => {
  const receiptText = async (invoiceId: string) => {
    const { body } = await admin(environment.service, `/payments?invoice=${invoiceId}`);
    const receipt = await fetch(`${environment.service.url}/admin/documents/${body.data[0].documents.find((n: string) => n.startsWith('R-'))}`, {
      headers: { authorization: `Bearer ${testAdminKey}` },
    });
    return pdfText(Buffer.from(await receipt.arrayBuffer()));
  };

  test('when Stripe says part of a paid invoice was paid outside it, then that part is booked as out-of-band, once, and the receipt says so', async () => {
    const invoice = paidInvoice({ subtotal: 10_000, chargeId: 'ch_partly_off_stripe' });
    environment.stripe.setPaidOffStripe(invoice.id, 4_000);

    await deliverTwiceAndWait(environment.service, stripeEvent('invoice.paid', invoice));
    await deliverTwiceAndWait(environment.service, stripeEvent('invoice.payment_succeeded', invoice));

    expect(await movements(environment.service, invoice.id)).toEqual({ revenue: -10_000, stripe_balance: 6_000, out_of_band_payments: 4_000 });
    expect(await receiptText(invoice.id)).toMatch(/Of which paid outside Stripe\s*\$40\.00/);
    // Asked for the first event only: the second found the payment recorded.
    expect(environment.stripe.calls.filter((call) => call === `GET /v1/invoices/${invoice.id}?expand[]=amount_paid_off_stripe`)).toHaveLength(1);
  });

  test('when a part paid outside Stripe comes before the rest is paid through it, then each part is in its own account', async () => {
    const invoice = paidInvoice({ subtotal: 10_000, chargeId: 'ch_first_part_off_stripe' });
    const partlyPaid = { ...invoice, status: 'open', amount_paid: 4_000, amount_remaining: 6_000 };
    environment.stripe.setPaidOffStripe(invoice.id, 4_000);

    await deliverTwiceAndWait(environment.service, stripeEvent('invoice.updated', partlyPaid));
    expect(await movements(environment.service, invoice.id)).toEqual({ revenue: -10_000, accounts_receivable: 6_000, out_of_band_payments: 4_000 });
    await deliverTwiceAndWait(environment.service, stripeEvent('invoice.paid', invoice));

    expect(await movements(environment.service, invoice.id)).toEqual({ revenue: -10_000, stripe_balance: 6_000, out_of_band_payments: 4_000 });
  });

  test('when an invoice with a part paid outside Stripe is written off, then that part is out-of-band and the rest bad debt', async () => {
    const invoice = paidInvoice({ subtotal: 10_000, chargeId: 'ch_off_stripe_written_off' });
    environment.stripe.setPaidOffStripe(invoice.id, 3_000);

    await deliverTwiceAndWait(environment.service, stripeEvent('invoice.marked_uncollectible', { ...invoice, status: 'uncollectible', amount_paid: 3_000, amount_remaining: 7_000 }));

    expect(await movements(environment.service, invoice.id)).toEqual({ revenue: -10_000, out_of_band_payments: 3_000, bad_debt: 7_000 });
  });

  test('when Stripe refuses to say (an account that disconnected), then the invoice is booked as paid through Stripe, as its event says', async () => {
    const invoice = paidInvoice({ subtotal: 10_000, chargeId: 'ch_off_stripe_refused' });
    environment.stripe.disconnect('acct_off_stripe_refused');

    await deliverTwiceAndWait(environment.service, stripeEvent('invoice.paid', invoice, { account: 'acct_off_stripe_refused' }));

    expect(await movements(environment.service, invoice.id)).toEqual({ revenue: -10_000, stripe_balance: 10_000 });
  });
});

describe('a refund booked before the payment of an invoice whose payload names no charge', () => {
  test('when the payment is recorded, then the charge Stripe names as what paid it takes its refunds\' tax share, and the invoice\'s ledger shows them', async () => {
    const { payments: _left_out, ...invoice } = paidInvoice({ subtotal: 10_000, tax: 2_000 });
    environment.stripe.setInvoicePayment(invoice.id, 'pi_refunded_early');
    environment.stripe.setLatestCharge('pi_refunded_early', 'ch_refunded_early');
    // Newer API versions leave the refund list out of the charge.
    const { refunds: _not_listed, ...charge } = chargeWithRefunds('ch_refunded_early', 12_000, [{ id: 're_early', amount: 3_000 }]);
    const refunded = { ...charge, payment_intent: 'pi_refunded_early' };

    await deliverTwiceAndWait(environment.service, stripeEvent('charge.refunded', refunded));
    await deliverTwiceAndWait(environment.service, stripeEvent('invoice.paid', invoice));

    expect(await movements(environment.service, 'ch_refunded_early')).toEqual({ refunds: 2_500, tax_payable: 500, stripe_balance: -3_000 });
    const { body } = await admin(environment.service, `/invoices/${invoice.id}/ledger`);
    expect(body.position).toMatchObject({ paid: 12_000, refunded: 3_000 });
  });
});

describe('an invoice paid in parts, whose payload lists no payments (newer API versions)', () => {
  test('when a part\'s charge other than the one looked up is refunded, then the refund finds the invoice and takes its tax share', async () => {
    const { payments: _left_out, ...invoice } = paidInvoice({ subtotal: 9_000, tax: 1_000 });
    environment.stripe.setInvoicePayment(invoice.id, 'pi_first_part');
    environment.stripe.setInvoicePayment(invoice.id, 'pi_second_part');
    environment.stripe.setLatestCharge('pi_first_part', 'ch_first_part');
    const { refunds: _not_listed, ...charge } = chargeWithRefunds('ch_second_part', 4_000, [{ id: 're_second_part', amount: 4_000 }]);

    await deliverTwiceAndWait(environment.service, stripeEvent('invoice.paid', invoice));
    await deliverTwiceAndWait(environment.service, stripeEvent('charge.refunded', { ...charge, payment_intent: 'pi_second_part' }));

    expect(await movements(environment.service, 'ch_second_part')).toEqual({ refunds: 3_600, tax_payable: 400, stripe_balance: -4_000 });
  });
});
