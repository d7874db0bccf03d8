import { randomBytes } from 'node:crypto';
import { TypedSearchAttributes } from '@temporalio/common';
import { StripeCustomerId, StripeInvoiceId } from '../workflows/contracts';
import { capturedCharge, chargeWithRefunds, disputeWithFunds, invoicePayment, paidInvoice } from './support/billing-events';
import { expectBalanced, movements } from './support/ledger';
import { pdfText } from './support/pdf';
import { admin, deliverTwiceAndWait, eventStatusWhenDone, startTestService, testAdminKey, type TestService } from './support/service';
import { deliver, stripeEvent } from './support/stripe-events';
import type { StripeEvent } from '../src/platform/stripe-event';

/**
 * Newer API versions (2025-03-31 and later) name no charge or payment intent on an invoice and no
 * invoice on a charge; without a key the service cannot ask Stripe what paid an invoice.
 * `invoice_payment.paid` says it: its payment intent (or charge) is kept with its invoice, so the
 * charge's refunds take the invoice's tax share and its disputes find the invoice. A charge that
 * nothing places (it may be a sale of its own) is listed for finance instead of left out silently.
 */

let service: TestService;

beforeAll(async () => {
  service = await startTestService();
});

afterAll(async () => {
  await service?.stop();
});

const run = () => randomBytes(4).toString('hex');

/** A $100 + $20 tax invoice paid by one payment intent, its charge refunded $30, in a newer API version's shapes. */
function refundedInvoiceCharge() {
  const id = run();
  const { payments: _left_out, ...invoice } = paidInvoice({ subtotal: 10_000, tax: 2_000 });
  const chargeId = `ch_link_${id}`;
  const paymentIntentId = `pi_link_${id}`;
  // The refund list is left out, as newer versions do (and the charge names no invoice).
  const { refunds: _not_listed, ...charge } = chargeWithRefunds(chargeId, 12_000, [{ id: `re_link_${id}`, amount: 3_000 }]);
  return {
    invoice,
    chargeId,
    paymentIntentId,
    paid: stripeEvent('invoice.paid', invoice),
    refunded: stripeEvent('charge.refunded', { ...charge, payment_intent: paymentIntentId }),
    announced: stripeEvent('invoice_payment.paid', invoicePayment({ invoiceId: invoice.id, paymentIntentId, amount: 12_000 })),
  };
}

describe('a refund of the charge that paid an invoice whose payload names no charge, without a key', () => {
  const orders: [string, (c: ReturnType<typeof refundedInvoiceCharge>) => StripeEvent[]][] = [
    ['paid, announced, refunded', (c) => [c.paid, c.announced, c.refunded]],
    ['paid, refunded, announced', (c) => [c.paid, c.refunded, c.announced]],
    ['refunded, paid, announced', (c) => [c.refunded, c.paid, c.announced]],
    ['announced, refunded, paid', (c) => [c.announced, c.refunded, c.paid]],
  ];

  test.each(orders)('when the invoice payment is announced (%s), then the refund takes the invoice\'s tax share and the invoice\'s ledger shows it', async (_order, inOrder) => {
    const scenario = refundedInvoiceCharge();

    for (const event of inOrder(scenario)) await deliverTwiceAndWait(service, event);

    expect(await movements(service, scenario.chargeId)).toEqual({ refunds: 2_500, tax_payable: 500, stripe_balance: -3_000 });
    const { body } = await admin(service, `/invoices/${scenario.invoice.id}/ledger`);
    expect(body.position).toMatchObject({ paid: 12_000, refunded: 3_000 });
    await expectBalanced(service);
  });

  test('when the announcement and the refund arrive at the same moment, each twice, then the refund still takes its share once', async () => {
    const scenarios = Array.from({ length: 4 }, refundedInvoiceCharge);
    for (const scenario of scenarios) await deliverTwiceAndWait(service, scenario.paid);

    await Promise.all(scenarios.flatMap((s) => [s.announced, s.refunded, s.announced, s.refunded].map((event) => deliver(service.url, event))));
    for (const scenario of scenarios) {
      expect(await eventStatusWhenDone(service, scenario.announced.id)).toBe('processed');
      expect(await eventStatusWhenDone(service, scenario.refunded.id)).toBe('processed');
    }

    for (const scenario of scenarios) {
      expect(await movements(service, scenario.chargeId)).toEqual({ refunds: 2_500, tax_payable: 500, stripe_balance: -3_000 });
    }
  });
});

test('when the invoice payment is announced before the invoice is paid, then the payment names its payment intent and the receipt shows it', async () => {
  const scenario = refundedInvoiceCharge();
  await deliverTwiceAndWait(service, scenario.announced);

  await deliverTwiceAndWait(service, scenario.paid);

  const { body } = await admin(service, `/payments?invoice=${scenario.invoice.id}`);
  expect(body.data).toHaveLength(1);
  expect(body.data[0]).toMatchObject({ payment_intent_id: scenario.paymentIntentId });
  const receipt = await fetch(`${service.url}/admin/documents/${body.data[0].documents.find((n: string) => n.startsWith('R-'))}`, { headers: { authorization: `Bearer ${testAdminKey}` } });
  expect(await pdfText(Buffer.from(await receipt.arrayBuffer()))).toContain(`Stripe payment ${scenario.paymentIntentId}`);
});

test('when a dispute names a charge whose payment intent an announced invoice payment names, then its execution is found by that invoice', async () => {
  const scenario = refundedInvoiceCharge();
  await deliverTwiceAndWait(service, scenario.paid);
  await deliverTwiceAndWait(service, scenario.announced);
  const event = stripeEvent('charge.dispute.created', { ...disputeWithFunds(`dp_link_${run()}`, 12_000, 'needs_response', []), charge: scenario.chargeId, payment_intent: scenario.paymentIntentId });

  await deliverTwiceAndWait(service, event);

  const attributes: TypedSearchAttributes = (await service.temporal.workflow.getHandle(event.id).describe()).typedSearchAttributes;
  expect(attributes.get(StripeInvoiceId)).toBe(scenario.invoice.id);
});

test('when an invoice payment is announced for an invoice already stored, then its execution is found with that invoice\'s customer', async () => {
  const scenario = refundedInvoiceCharge();
  const customer = `cus_link_${run()}`;
  await deliverTwiceAndWait(service, stripeEvent('invoice.finalized', { ...scenario.invoice, customer, status: 'open', amount_paid: 0, amount_remaining: scenario.invoice.total }));

  await deliverTwiceAndWait(service, scenario.announced);

  const attributes: TypedSearchAttributes = (await service.temporal.workflow.getHandle(scenario.announced.id).describe()).typedSearchAttributes;
  expect([attributes.get(StripeCustomerId), attributes.get(StripeInvoiceId)]).toEqual([customer, scenario.invoice.id]);
  const { body } = await admin(service, `/events?customer=${customer}`);
  expect(body.data.map((row: { id: string }) => row.id)).toContain(scenario.announced.id);
});

test('when a charge arrives after its payment intent was announced as paying an invoice, then it is not booked as a sale of its own', async () => {
  const scenario = refundedInvoiceCharge();
  await deliverTwiceAndWait(service, scenario.announced);
  const charge = { ...capturedCharge({ amount: 12_000, paymentIntent: scenario.paymentIntentId }), id: scenario.chargeId };

  await deliverTwiceAndWait(service, stripeEvent('charge.succeeded', charge));

  expect(await movements(service, scenario.chargeId)).toEqual({});
  const { rows } = await service.database.db.query('SELECT count(*)::int AS n FROM invoice_payments WHERE payment_intent_id = $1', [scenario.paymentIntentId]);
  expect(rows[0].n).toBe(1);
});

test('when a part was paid outside Stripe (a payment record), then the announcement is processed and books nothing', async () => {
  const announced = invoicePayment({ invoiceId: `in_record_${run()}`, amount: 5_000 });
  const event = stripeEvent('invoice_payment.paid', { ...announced, payment: { type: 'payment_record', payment_record: `pr_${run()}` } });

  await deliverTwiceAndWait(service, event);

  expect(await movements(service, announced.invoice)).toEqual({});
});

test('when an invoice payment names no invoice, then the event fails saying so and nothing is kept', async () => {
  const announced: Record<string, any> = { ...invoicePayment({ invoiceId: 'in_unused', paymentIntentId: `pi_nameless_${run()}`, amount: 5_000 }), invoice: null };
  const event = stripeEvent('invoice_payment.paid', announced);

  await deliver(service.url, event);

  expect(await eventStatusWhenDone(service, event.id)).toBe('failed');
  const { body } = await admin(service, `/events/${event.id}`);
  expect(body.last_error).toContain('invoice_payment.invoice is missing');
  const { rows } = await service.database.db.query('SELECT count(*)::int AS n FROM invoice_payments WHERE id = $1', [announced.id]);
  expect(rows[0].n).toBe(0);
});

describe('charges the books cannot place, without a key', () => {
  const notBooked = async () => (await admin(service, '/ledger/charges-not-booked')).body.data.map((row: { charge_id: string }) => row.charge_id);
  const month = new Date().toISOString().slice(0, 7);
  /** A one-off charge of a newer API version: its payload does not say whether it pays an invoice. */
  const newerCharge = (amount: number): Record<string, any> => ({ ...capturedCharge({ amount }), created: Math.floor(Date.now() / 1000) });

  test('when a charge cannot be told apart, then it is listed for finance, in the month\'s close too, until an invoice payment names its payment intent', async () => {
    const charge = newerCharge(1_700);

    await deliverTwiceAndWait(service, stripeEvent('charge.succeeded', charge));

    expect(await movements(service, charge.id)).toEqual({});
    const listed = (await admin(service, '/ledger/charges-not-booked')).body.data.find((row: { charge_id: string }) => row.charge_id === charge.id);
    expect(listed).toMatchObject({ payment_intent_id: charge.payment_intent, currency: 'usd', amount: 1_700, account: null });
    const close = await admin(service, `/reports/close?month=${month}`);
    expect(close.body.charges_not_booked.map((row: { charge_id: string }) => row.charge_id)).toContain(charge.id);
    const csv = await fetch(`${service.url}/admin/reports/close?month=${month}`, { headers: { authorization: `Bearer ${testAdminKey}`, accept: 'text/csv' } });
    expect(await csv.text()).toContain(`charge_not_booked,USD,${charge.id},17.00`);

    await deliverTwiceAndWait(service, stripeEvent('invoice_payment.paid', invoicePayment({ invoiceId: `in_later_${run()}`, paymentIntentId: charge.payment_intent, amount: 1_700 })));

    expect(await notBooked()).not.toContain(charge.id);
    expect(await movements(service, charge.id)).toEqual({});
  });

  test('when the charge and the invoice payment naming its payment intent arrive at the same moment, each twice, then the charge is not listed', async () => {
    const pairs = Array.from({ length: 4 }, () => {
      const charge = newerCharge(900);
      return { charge, events: [stripeEvent('charge.succeeded', charge), stripeEvent('invoice_payment.paid', invoicePayment({ invoiceId: `in_at_once_${run()}`, paymentIntentId: charge.payment_intent, amount: 900 }))] };
    });

    await Promise.all(pairs.flatMap(({ events }) => [...events, ...events].map((event) => deliver(service.url, event))));
    for (const event of pairs.flatMap(({ events }) => events)) expect(await eventStatusWhenDone(service, event.id)).toBe('processed');

    const listed = await notBooked();
    for (const { charge } of pairs) expect(listed).not.toContain(charge.id);
  });
});
