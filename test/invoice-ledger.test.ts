import { capturedCharge, chargeWithRefunds, creditNote, disputeWithFunds, paidInvoice, refund, type InvoiceOptions } from './support/billing-events';
import { expectBalanced, movements } from './support/ledger';
import { admin, deliverTwiceAndWait, startTestService, type TestService } from './support/service';
import { stripeEvent } from './support/stripe-events';
import { recordInvoicePayment } from '../activities/payments';
import type { StripeEvent } from '../src/platform/stripe-event';

/**
 * The books of an invoice follow Stripe's invoice math whatever order its events arrive in:
 * each case is delivered in Stripe's order and reversed, every event twice at once.
 */

let service: TestService;

beforeAll(async () => {
  service = await startTestService();
});

afterAll(async () => {
  await service?.stop();
});

const orders = ['in Stripe order', 'reversed'] as const;

async function deliverAll(events: StripeEvent[], order: (typeof orders)[number]) {
  for (const event of order === 'reversed' ? [...events].reverse() : events) await deliverTwiceAndWait(service, event);
}

/** One invoice in its states: open after finalization, then paid, uncollectible or void. */
function invoiceStates(options: InvoiceOptions & { startingBalance?: number; endingBalance?: number } = {}) {
  const paid = paidInvoice(options);
  const applied = (options.endingBalance ?? 0) - (options.startingBalance ?? 0);
  const due = paid.total - applied;
  const balances = { starting_balance: options.startingBalance ?? 0, ending_balance: options.endingBalance ?? 0, amount_due: due };
  const open = { ...paid, ...balances, status: 'open', amount_paid: 0, amount_remaining: due };
  return {
    id: paid.id as string,
    open,
    paid: { ...paid, ...balances, amount_paid: due, amount_remaining: 0 },
    uncollectible: { ...open, status: 'uncollectible' },
    void: { ...open, status: 'void', amount_remaining: 0 },
  };
}

async function invoiceLedger(invoiceId: string) {
  const { status, body } = await admin(service, `/invoices/${invoiceId}/ledger`);
  expect(status).toBe(200);
  return body;
}

describe('customer credit balance', () => {
  test.each(orders)('when credit from the balance pays part of an invoice (%s), then the receivable closes against the balance and the cash', async (order) => {
    const invoice = invoiceStates({ subtotal: 4_000, startingBalance: -1_000, endingBalance: 0 });

    await deliverAll([stripeEvent('invoice.finalized', invoice.open), stripeEvent('invoice.paid', invoice.paid)], order);

    expect(await movements(service, invoice.id)).toEqual({ revenue: -4_000, customer_balance: 1_000, stripe_balance: 3_000 });
    expect((await invoiceLedger(invoice.id)).position).toMatchObject({ recognized: 4_000, balance_applied: 1_000, paid: 3_000, outstanding: 0 });
    await expectBalanced(service);
  });

  test('when credit pays a whole invoice (amount_paid 0), then it is still a payment with both documents emailed, and no cash is booked', async () => {
    const invoice = invoiceStates({ subtotal: 4_000, startingBalance: -5_000, endingBalance: -1_000, customerEmail: 'credit@example.com' });

    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice.paid));

    expect(await movements(service, invoice.id)).toEqual({ revenue: -4_000, customer_balance: 4_000 });
    const { body } = await admin(service, `/payments?invoice=${invoice.id}`);
    expect(body.data).toHaveLength(1);
    expect(body.data[0].documents).toHaveLength(2);
    const toCustomer = service.smtp.to('credit@example.com');
    expect(toCustomer).toHaveLength(1);
    expect(toCustomer[0].attachments).toHaveLength(2);
  });

  test('when an amount below the minimum charge moves to the balance, then the customer owes it through the balance, not the invoice', async () => {
    const invoice = invoiceStates({ subtotal: 30, startingBalance: 0, endingBalance: 30 });

    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice.paid));

    expect(await movements(service, invoice.id)).toEqual({ revenue: -30, customer_balance: 30 });
  });
});

describe('invoices of a negative total', () => {
  test.each(orders)('when a downgrade\'s proration invoice credits the customer (%s), then revenue and tax fall against the customer balance and nothing is receivable', async (order) => {
    // A credit of $50 plus $10 tax, which Stripe puts on the customer's balance: nothing is due.
    const invoice = invoiceStates({ subtotal: -5_000, tax: -1_000, startingBalance: 0, endingBalance: -6_000 });
    const paid = { ...invoice.paid, amount_due: 0, amount_paid: 0, amount_remaining: 0 };

    await deliverAll([stripeEvent('invoice.finalized', invoice.open), stripeEvent('invoice.paid', paid)], order);

    expect(await movements(service, invoice.id)).toEqual({ revenue: 5_000, tax_payable: 1_000, customer_balance: -6_000 });
    expect((await invoiceLedger(invoice.id)).position).toMatchObject({ recognized: -6_000, balance_applied: -6_000, paid: 0, outstanding: 0 });
    await expectBalanced(service);
  });
});

describe('paid out of band', () => {
  test.each([
    ['an older API version (amount_paid 0)', 0],
    ['a newer API version (amount_paid counts it)', 5_000],
  ])('when an invoice is marked paid out of band in %s, then the receivable closes against the out-of-band account, not the Stripe balance', async (_shape, amountPaid) => {
    const invoice = invoiceStates({ subtotal: 5_000 });

    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', { ...invoice.paid, paid_out_of_band: true, amount_paid: amountPaid }));

    expect(await movements(service, invoice.id)).toEqual({ revenue: -5_000, out_of_band_payments: 5_000 });
  });
});

describe('overpaid invoices', () => {
  test.each(orders)('when a customer pays more than was due (%s), then the excess is their credit in the customer balance, not a negative receivable', async (order) => {
    const invoice = invoiceStates({ subtotal: 10_000 });
    const overpaid = { ...invoice.paid, amount_paid: 12_000, amount_overpaid: 2_000 };

    await deliverAll([stripeEvent('invoice.finalized', invoice.open), stripeEvent('invoice.paid', overpaid)], order);

    expect(await movements(service, invoice.id)).toEqual({ revenue: -10_000, stripe_balance: 12_000, customer_balance: -2_000 });
    expect((await invoiceLedger(invoice.id)).position).toMatchObject({ paid: 10_000, overpaid: 2_000, outstanding: 0 });
    await expectBalanced(service);
  });

  test('when the next invoice spends the overpayment, then the customer balance holds nothing for it any more', async () => {
    const first = invoiceStates({ subtotal: 10_000 });
    const next = invoiceStates({ subtotal: 5_000, startingBalance: -2_000, endingBalance: 0 });

    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', { ...first.paid, amount_paid: 12_000, amount_overpaid: 2_000 }));
    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', next.paid));

    const [firstMoved, nextMoved] = [await movements(service, first.id), await movements(service, next.id)];
    expect(firstMoved.customer_balance + nextMoved.customer_balance).toBe(0);
    expect([firstMoved.accounts_receivable, nextMoved.accounts_receivable]).toEqual([undefined, undefined]);
  });
});

describe('paid in parts', () => {
  test('when invoice.updated says a part was paid, then that part is in the Stripe balance before the invoice is paid', async () => {
    const invoice = invoiceStates({ subtotal: 10_000 });

    await deliverAll([stripeEvent('invoice.finalized', invoice.open), stripeEvent('invoice.updated', { ...invoice.open, amount_paid: 4_000, amount_remaining: 6_000 })], 'in Stripe order');

    expect(await movements(service, invoice.id)).toEqual({ revenue: -10_000, accounts_receivable: 6_000, stripe_balance: 4_000 });
  });

  test.each(orders)('when two parts are paid and then the invoice (%s), then what was paid is booked once', async (order) => {
    const invoice = invoiceStates({ subtotal: 10_000 });
    const part = (paid: number) => stripeEvent('invoice.updated', { ...invoice.open, amount_paid: paid, amount_remaining: 10_000 - paid });

    await deliverAll([stripeEvent('invoice.finalized', invoice.open), part(4_000), part(7_000), stripeEvent('invoice.paid', invoice.paid)], order);

    expect(await movements(service, invoice.id)).toEqual({ revenue: -10_000, stripe_balance: 10_000 });
    expect((await invoiceLedger(invoice.id)).position).toMatchObject({ paid: 10_000, outstanding: 0 });
  });
});

describe('paid partly outside Stripe (amount_paid_off_stripe)', () => {
  test.each([
    ['part of it', 4_000, { stripe_balance: 6_000, out_of_band_payments: 4_000 }],
    ['all of it, without being marked paid out of band', 10_000, { out_of_band_payments: 10_000 }],
  ])('when %s was paid outside Stripe, then only the rest enters the Stripe balance', async (_part, offStripe, paidInto) => {
    const invoice = invoiceStates({ subtotal: 10_000 });

    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', { ...invoice.paid, amount_paid_off_stripe: offStripe }));

    expect(await movements(service, invoice.id)).toEqual({ revenue: -10_000, ...paidInto });
  });
});

describe('bad debt', () => {
  test.each(orders)('when an uncollectible invoice is paid later (%s), then the write-off is recovered', async (order) => {
    const invoice = invoiceStates({ subtotal: 8_000, tax: 800 });

    await deliverAll(
      [stripeEvent('invoice.finalized', invoice.open), stripeEvent('invoice.marked_uncollectible', invoice.uncollectible), stripeEvent('invoice.paid', invoice.paid)],
      order,
    );

    expect(await movements(service, invoice.id)).toEqual({ revenue: -8_000, tax_payable: -800, stripe_balance: 8_800 });
    await expectBalanced(service);
  });

  test.each(orders)('when an invoice is written off after a part of it was paid (%s), then the part is in the Stripe balance and only the rest is bad debt', async (order) => {
    const invoice = invoiceStates({ subtotal: 10_000 });
    const partlyPaid = { ...invoice.open, amount_paid: 4_000, amount_remaining: 6_000 };

    await deliverAll(
      [stripeEvent('invoice.finalized', invoice.open), stripeEvent('invoice.payment_succeeded', partlyPaid), stripeEvent('invoice.marked_uncollectible', { ...partlyPaid, status: 'uncollectible' })],
      order,
    );

    expect(await movements(service, invoice.id)).toEqual({ revenue: -10_000, stripe_balance: 4_000, bad_debt: 6_000 });
    expect((await invoiceLedger(invoice.id)).position).toMatchObject({ paid: 4_000, written_off: 6_000, outstanding: 0 });
  });

  test('when an invoice stays uncollectible, then what was still due is bad debt', async () => {
    const invoice = invoiceStates({ subtotal: 6_000, startingBalance: -1_000, endingBalance: 0 });

    await deliverTwiceAndWait(service, stripeEvent('invoice.marked_uncollectible', invoice.uncollectible));

    expect(await movements(service, invoice.id)).toEqual({ revenue: -6_000, customer_balance: 1_000, bad_debt: 5_000 });
    expect((await invoiceLedger(invoice.id)).position).toMatchObject({ written_off: 5_000, outstanding: 0 });
  });
});

describe('voided invoices', () => {
  test.each(orders)('when a finalized invoice with credit applied is voided (%s), then nothing is left on any account', async (order) => {
    const invoice = invoiceStates({ subtotal: 3_000, tax: 300, startingBalance: -500, endingBalance: 0 });

    await deliverAll([stripeEvent('invoice.finalized', invoice.open), stripeEvent('invoice.voided', invoice.void)], order);

    expect(await movements(service, invoice.id)).toEqual({});
  });

  test.each(orders)('when an uncollectible invoice is voided (%s), then the bad debt goes too', async (order) => {
    const invoice = invoiceStates({ subtotal: 2_000 });

    await deliverAll([stripeEvent('invoice.marked_uncollectible', invoice.uncollectible), stripeEvent('invoice.voided', invoice.void)], order);

    expect(await movements(service, invoice.id)).toEqual({});
  });
});

describe('credit notes', () => {
  test.each(orders)('when a credit note lowers an open invoice before it is paid (%s), then revenue and tax fall and the receivable closes', async (order) => {
    const invoice = invoiceStates({ subtotal: 4_000, tax: 400 });
    const note = creditNote({ invoiceId: invoice.id, amount: 1_100, tax: 100, to: 'invoice' });
    const paid = { ...invoice.paid, amount_paid: 3_300 };

    await deliverAll([stripeEvent('invoice.finalized', invoice.open), stripeEvent('credit_note.created', note), stripeEvent('invoice.paid', paid)], order);

    expect(await movements(service, invoice.id)).toEqual({ revenue: -3_000, tax_payable: -300, stripe_balance: 3_300 });
    expect((await invoiceLedger(invoice.id)).position).toMatchObject({ credited: 1_100, outstanding: 0 });
  });

  test('when a paid invoice is credited to the customer balance, then the balance owes the customer', async () => {
    const invoice = invoiceStates({ subtotal: 4_000, tax: 400 });

    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice.paid));
    await deliverTwiceAndWait(service, stripeEvent('credit_note.created', creditNote({ invoiceId: invoice.id, amount: 1_100, tax: 100, to: 'balance' })));

    expect(await movements(service, invoice.id)).toEqual({ revenue: -3_000, tax_payable: -300, customer_balance: -1_100, stripe_balance: 4_400 });
  });

  test.each(orders)('when a credit note is voided (%s), then its credit is reversed', async (order) => {
    const invoice = invoiceStates({ subtotal: 4_000, tax: 400 });
    const note = creditNote({ invoiceId: invoice.id, amount: 1_100, tax: 100, to: 'balance' });

    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice.paid));
    await deliverAll([stripeEvent('credit_note.created', note), stripeEvent('credit_note.voided', { ...note, status: 'void' })], order);

    expect(await movements(service, invoice.id)).toEqual({ revenue: -4_000, tax_payable: -400, stripe_balance: 4_400 });
  });

  test.each(orders)('when a credit note refunds part of a paid invoice (%s), then the refund is booked once and takes its share of the tax', async (order) => {
    const chargeId = `ch_cn_${order.replace(' ', '_').replace(/ /g, '_')}`;
    const invoice = invoiceStates({ subtotal: 4_000, tax: 400, chargeId });
    const note = creditNote({ invoiceId: invoice.id, amount: 2_200, tax: 200, to: 'refund' });
    const charge = chargeWithRefunds(chargeId, 4_400, [{ id: `re_${chargeId}`, amount: 2_200 }]);

    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice.paid));
    await deliverAll([stripeEvent('credit_note.created', note), stripeEvent('charge.refunded', charge)], order);

    expect(await movements(service, invoice.id)).toEqual({ revenue: -4_000, tax_payable: -400, stripe_balance: 4_400 });
    expect(await movements(service, chargeId)).toEqual({ refunds: 2_000, tax_payable: 200, stripe_balance: -2_200 });
    expect((await invoiceLedger(invoice.id)).position).toMatchObject({ refunded: 2_200 });
  });
});

describe('credit notes on an invoice whose lines are taxed at different rates', () => {
  // $100 taxed at 20 % and $100 untaxed: $220, of which $20 tax (an average of 9.1 %).
  const mixedRates = (chargeId: string) => invoiceStates({ subtotal: 20_000, tax: 2_000, chargeId });
  const chargeOf = (label: string, order: string) => `ch_${label}_${order.replace(/\W/g, '_')}`;

  test.each(orders)('when a credit note refunds the untaxed line (%s), then its refund moves no tax', async (order) => {
    const chargeId = chargeOf('untaxed_line_refunded', order);
    const invoice = mixedRates(chargeId);
    const note = creditNote({ invoiceId: invoice.id, amount: 10_000, tax: 0, to: 'refund' });
    const charge = chargeWithRefunds(chargeId, 22_000, [{ id: `re_${chargeId}`, amount: 10_000 }]);

    await deliverAll([stripeEvent('invoice.paid', invoice.paid), stripeEvent('credit_note.created', note), stripeEvent('charge.refunded', charge)], order);

    expect(await movements(service, chargeId)).toEqual({ refunds: 10_000, stripe_balance: -10_000 });
    await expectBalanced(service);
  });

  test.each(orders)('when a credit note refunds half the taxed line and credits the other half to the balance (%s), then the refund takes the note\'s tax on it', async (order) => {
    const chargeId = chargeOf('taxed_line_split', order);
    const invoice = mixedRates(chargeId);
    const note = { ...creditNote({ invoiceId: invoice.id, amount: 12_000, tax: 2_000, to: 'balance' }), refunds: [{ refund: `re_${chargeId}`, amount_refunded: 6_000, type: 'refund' }] };
    const charge = chargeWithRefunds(chargeId, 22_000, [{ id: `re_${chargeId}`, amount: 6_000 }]);

    await deliverAll([stripeEvent('invoice.paid', invoice.paid), stripeEvent('credit_note.created', note), stripeEvent('charge.refunded', charge)], order);

    expect(await movements(service, chargeId)).toEqual({ refunds: 5_000, tax_payable: 1_000, stripe_balance: -6_000 });
    expect(await movements(service, invoice.id)).toEqual({ revenue: -20_000 + 5_000, tax_payable: -2_000 + 1_000, customer_balance: -6_000, stripe_balance: 22_000 });
  });

  test.each(orders)('when the untaxed line is credited before payment and the charge is then refunded in full (%s), then no tax is left payable', async (order) => {
    const chargeId = chargeOf('refunded_after_note', order);
    const invoice = mixedRates(chargeId);
    const note = creditNote({ invoiceId: invoice.id, amount: 10_000, tax: 0, to: 'invoice' });
    const paid = { ...invoice.paid, amount_due: 12_000, amount_paid: 12_000 };
    const charge = chargeWithRefunds(chargeId, 12_000, [{ id: `re_${chargeId}`, amount: 12_000 }]);

    await deliverAll([stripeEvent('invoice.finalized', invoice.open), stripeEvent('credit_note.created', note), stripeEvent('invoice.paid', paid), stripeEvent('charge.refunded', charge)], order);

    expect(await movements(service, chargeId)).toEqual({ refunds: 10_000, tax_payable: 2_000, stripe_balance: -12_000 });
    expect(await movements(service, invoice.id)).toEqual({ revenue: -10_000, tax_payable: -2_000, stripe_balance: 12_000 });
  });

  test.each(orders)('when a credit note to the balance is voided after a refund was booked (%s), then the refund\'s tax share is the invoice\'s again', async (order) => {
    const chargeId = chargeOf('note_voided', order);
    const invoice = mixedRates(chargeId);
    const note = creditNote({ invoiceId: invoice.id, amount: 10_000, tax: 0, to: 'balance' });
    const charge = chargeWithRefunds(chargeId, 22_000, [{ id: `re_${chargeId}`, amount: 11_000 }]);

    await deliverAll(
      [stripeEvent('invoice.paid', invoice.paid), stripeEvent('charge.refunded', charge), stripeEvent('credit_note.created', note), stripeEvent('credit_note.voided', { ...note, status: 'void' })],
      order,
    );

    expect(await movements(service, chargeId)).toEqual({ refunds: 10_000, tax_payable: 1_000, stripe_balance: -11_000 });
    await expectBalanced(service);
  });

  test('when a credit note to the balance takes the untaxed line while a refund is booked, then the refund\'s tax share is that of the taxed line left', async () => {
    const chargeId = 'ch_refund_then_untaxed_note';
    const invoice = mixedRates(chargeId);
    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice.paid));
    await deliverTwiceAndWait(service, stripeEvent('charge.refunded', chargeWithRefunds(chargeId, 22_000, [{ id: 're_before_the_note', amount: 6_000 }])));
    expect(await movements(service, chargeId)).toEqual({ refunds: 6_000 - 545, tax_payable: 545, stripe_balance: -6_000 });

    await deliverTwiceAndWait(service, stripeEvent('credit_note.created', creditNote({ invoiceId: invoice.id, amount: 10_000, tax: 0, to: 'balance' })));

    expect(await movements(service, chargeId)).toEqual({ refunds: 5_000, tax_payable: 1_000, stripe_balance: -6_000 });
  });
});

describe('refunds and tax', () => {
  test('when a refund is booked before the payment of its invoice is known, then it takes its tax share once the payment arrives', async () => {
    const chargeId = 'ch_refund_before_payment';
    const invoice = invoiceStates({ subtotal: 10_000, tax: 2_000, chargeId });

    await deliverTwiceAndWait(service, stripeEvent('charge.refunded', chargeWithRefunds(chargeId, 12_000, [{ id: 're_early', amount: 3_000 }])));
    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice.paid));

    expect(await movements(service, chargeId)).toEqual({ refunds: 2_500, tax_payable: 500, stripe_balance: -3_000 });
  });

  test.each(orders)('when an invoice paid in two parts has the second part\'s charge refunded (%s), then the refund takes its tax share and is in the invoice\'s books', async (order) => {
    const [first, second] = [`ch_part_one_${order.replace(/\W/g, '_')}`, `ch_part_two_${order.replace(/\W/g, '_')}`];
    const invoice = invoiceStates({ subtotal: 9_000, tax: 1_000, chargeId: first });
    const paid: Record<string, any> = invoice.paid;
    const part = (chargeId: string, amount: number) => ({ ...paid.payments.data[0], id: `inpay_${chargeId}`, amount_paid: amount, payment: { type: 'payment_intent', payment_intent: `pi_${chargeId}`, charge: chargeId } });
    const paidInParts = { ...paid, payments: { ...paid.payments, data: [part(first, 6_000), part(second, 4_000)] } };
    const refunded = { ...chargeWithRefunds(second, 4_000, [{ id: `re_${second}`, amount: 4_000 }]), payment_intent: `pi_${second}` };

    await deliverAll([stripeEvent('invoice.paid', paidInParts), stripeEvent('charge.refunded', refunded)], order);

    expect(await movements(service, second)).toEqual({ refunds: 3_600, tax_payable: 400, stripe_balance: -4_000 });
    expect((await invoiceLedger(invoice.id)).position).toMatchObject({ paid: 10_000, refunded: 4_000, outstanding: 0 });
  });

  test.each(orders)('when an invoice paid in parts lists its parts by payment intent only and a part\'s charge is refunded (%s), then the refund takes its tax share and is in the invoice\'s books', async (order) => {
    const run = order.replace(/\W/g, '_');
    const invoice = invoiceStates({ subtotal: 9_000, tax: 1_000, chargeId: `ch_intent_one_${run}` });
    const paid: Record<string, any> = invoice.paid;
    // As Stripe lists a part paid by a payment intent: the intent, no charge.
    const part = (n: number, amount: number) => ({ ...paid.payments.data[0], id: `inpay_${run}_${n}`, amount_paid: amount, payment: { type: 'payment_intent', payment_intent: `pi_intent_${n}_${run}` } });
    const { charge: _named, payment_intent: _too, ...payload } = paid;
    const paidInParts = { ...payload, payments: { ...paid.payments, data: [part(1, 6_000), part(2, 4_000)] } };
    const chargeId = `ch_intent_two_${run}`;
    const refunded = { ...chargeWithRefunds(chargeId, 4_000, [{ id: `re_${chargeId}`, amount: 4_000 }]), payment_intent: `pi_intent_2_${run}` };

    await deliverAll([stripeEvent('invoice.paid', paidInParts), stripeEvent('charge.refunded', refunded)], order);

    expect(await movements(service, chargeId)).toEqual({ refunds: 3_600, tax_payable: 400, stripe_balance: -4_000 });
    expect((await invoiceLedger(invoice.id)).position).toMatchObject({ paid: 10_000, refunded: 4_000, outstanding: 0 });
  });

  test('when a booked refund fails, then its money is back in the Stripe balance', async () => {
    const charge = chargeWithRefunds('ch_refund_fails', 5_000, [{ id: 're_fails', amount: 2_000 }]);

    await deliverTwiceAndWait(service, stripeEvent('charge.refunded', charge));
    await deliverTwiceAndWait(service, stripeEvent('charge.refund.updated', refund('re_fails', 'ch_refund_fails', 2_000, 'failed')));

    expect(await movements(service, 'ch_refund_fails')).toEqual({});
  });

  test.each(orders)('when one of two refunds booked before the payment was known fails (%s), then what stays refunded keeps its own tax share', async (order) => {
    const chargeId = `ch_one_of_two_fails_${order.replace(/\W/g, '_')}`;
    const invoice = invoiceStates({ subtotal: 10_000, tax: 2_000, chargeId });
    const refunded = chargeWithRefunds(chargeId, 12_000, [
      { id: `re_${chargeId}_1`, amount: 3_000 },
      { id: `re_${chargeId}_2`, amount: 3_000 },
    ]);

    await deliverAll(
      [
        stripeEvent('charge.refunded', refunded),
        stripeEvent('invoice.paid', invoice.paid),
        stripeEvent('charge.refund.updated', refund(`re_${chargeId}_1`, chargeId, 3_000, 'failed')),
      ],
      order,
    );

    expect(await movements(service, chargeId)).toEqual({ refunds: 2_500, tax_payable: 500, stripe_balance: -3_000 });
    await expectBalanced(service);
  });

  test('when a refund arrives after the payment is recorded and before it is booked, with refunds booked earlier without their tax share, then it is booked and the tax share ends on all of them', async () => {
    const chargeId = 'ch_refund_in_the_window';
    const invoice = invoiceStates({ subtotal: 10_000, tax: 2_000, chargeId });
    const paid = stripeEvent('invoice.paid', invoice.paid);
    const refunds = [
      { id: 're_before_the_payment', amount: 6_000 },
      { id: 're_in_the_window', amount: 100 },
    ];
    await deliverTwiceAndWait(service, stripeEvent('charge.refunded', chargeWithRefunds(chargeId, 12_000, refunds.slice(0, 1))));
    // The paid invoice's first step on its own: the payment recorded, its entries not yet booked.
    await recordInvoicePayment(service.database.db, undefined, paid);

    await deliverTwiceAndWait(service, stripeEvent('charge.refunded', chargeWithRefunds(chargeId, 12_000, refunds)));
    await deliverTwiceAndWait(service, paid);

    expect(await movements(service, chargeId)).toEqual({ refunds: 6_100 - 1_017, tax_payable: 1_017, stripe_balance: -6_100 });
    await expectBalanced(service);
  });

  test('when a refund booked from the growth of amount_refunded fails, then its amount and its tax share come back', async () => {
    const chargeId = 'ch_growth_refund_fails';
    const invoice = invoiceStates({ subtotal: 10_000, tax: 2_000, chargeId });
    const grown = { ...chargeWithRefunds(chargeId, 12_000, []), amount_refunded: 3_000, refunds: undefined };

    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice.paid));
    await deliverTwiceAndWait(service, stripeEvent('charge.refunded', grown));
    expect(await movements(service, chargeId)).toEqual({ refunds: 2_500, tax_payable: 500, stripe_balance: -3_000 });
    await deliverTwiceAndWait(service, stripeEvent('refund.failed', refund('re_growth_fails', chargeId, 3_000, 'failed')));

    expect(await movements(service, chargeId)).toEqual({});
    await expectBalanced(service);
  });

  test.each(['with the refund list', 'without it'])(
    'when a refund\'s failure is delivered before the refund event of an earlier moment (%s), then the refund is never booked',
    async (shape) => {
      const chargeId = `ch_failure_first_${shape.replace(/\W/g, '_')}`;
      const earlier = Math.floor(Date.now() / 1000) - 600;
      const listed = chargeWithRefunds(chargeId, 5_000, [{ id: `re_${chargeId}`, amount: 2_000 }]);
      const refunded = shape === 'without it' ? { ...listed, refunds: undefined } : listed;

      await deliverTwiceAndWait(service, stripeEvent('refund.failed', refund(`re_${chargeId}`, chargeId, 2_000, 'failed')));
      await deliverTwiceAndWait(service, stripeEvent('charge.refunded', refunded, { created: earlier }));

      expect(await movements(service, chargeId)).toEqual({});
    },
  );

  test('when a charge event without the refund list comes after a failure, then its amount_refunded (which no longer counts the failed refund) is booked as it is', async () => {
    const chargeId = 'ch_after_failure';
    const later = Math.floor(Date.now() / 1000) + 60;

    await deliverTwiceAndWait(service, stripeEvent('refund.failed', refund('re_failed_before', chargeId, 2_000, 'failed')));
    await deliverTwiceAndWait(service, stripeEvent('charge.refunded', { ...chargeWithRefunds(chargeId, 5_000, []), amount_refunded: 1_000, refunds: undefined }, { created: later }));

    expect(await movements(service, chargeId)).toEqual({ refunds: 1_000, stripe_balance: -1_000 });
  });

  test('when a refund that was never booked fails, then the refunds booked under other ids stay', async () => {
    const charge = chargeWithRefunds('ch_other_refund_fails', 5_000, [{ id: 're_kept', amount: 1_000 }]);

    await deliverTwiceAndWait(service, stripeEvent('charge.refunded', charge));
    await deliverTwiceAndWait(service, stripeEvent('refund.failed', refund('re_never_booked', 'ch_other_refund_fails', 1_000, 'failed')));

    expect(await movements(service, 'ch_other_refund_fails')).toEqual({ refunds: 1_000, stripe_balance: -1_000 });
  });
});

describe('disputes', () => {
  test('when an inquiry is opened and closed, then no money moved and nothing is booked', async () => {
    await deliverTwiceAndWait(service, stripeEvent('charge.dispute.created', disputeWithFunds('dp_inquiry', 3_000, 'warning_needs_response', [])));
    await deliverTwiceAndWait(service, stripeEvent('charge.dispute.closed', disputeWithFunds('dp_inquiry', 3_000, 'warning_closed', [])));

    expect(await movements(service, 'dp_inquiry')).toEqual({});
  });

  test.each(orders)('when funds are withdrawn and reinstated (%s), then the books follow the balance transactions', async (order) => {
    const id = `dp_funds_${order.replace(' ', '_').replace(/ /g, '_')}`;
    const events = [
      stripeEvent('charge.dispute.created', disputeWithFunds(id, 3_000, 'needs_response', [])),
      stripeEvent('charge.dispute.funds_withdrawn', disputeWithFunds(id, 3_000, 'needs_response', [-3_000])),
      stripeEvent('charge.dispute.funds_reinstated', disputeWithFunds(id, 3_000, 'won', [-3_000, 3_000])),
    ];

    await deliverAll(events.slice(0, 2), order);
    expect(await movements(service, id)).toEqual({ dispute_losses: 3_000, stripe_balance: -3_000 });
    await deliverTwiceAndWait(service, events[2]);

    expect(await movements(service, id)).toEqual({});
  });
});

describe('GET /admin/invoices/:id/ledger', () => {
  test('when the invoice has no entries, then 404 names it', async () => {
    const { status, body } = await admin(service, '/invoices/in_never_seen/ledger');

    expect(status).toBe(404);
    expect(body.error.message).toMatch(/in_never_seen/);
  });

  test('when an invoice is paid, then its entries are listed with their lines', async () => {
    const invoice = invoiceStates({ subtotal: 1_500 });
    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice.paid));

    const ledger = await invoiceLedger(invoice.id);

    expect(ledger.entries.map((e: { kind: string }) => e.kind)).toEqual(['invoice_recognized', 'payment_settled']);
    expect(ledger.position).toEqual({
      currency: 'usd',
      recognized: 1_500,
      balance_applied: 0,
      credited: 0,
      paid: 1_500,
      overpaid: 0,
      voided: 0,
      written_off: 0,
      refunded: 0,
      disputed: 0,
      outstanding: 0,
    });
  });

  test.each(orders)('when the charge that paid an invoice is disputed (%s), then the invoice\'s ledger lists the dispute\'s entries and what it took', async (order) => {
    const chargeId = `ch_disputed_${order.replace(/\W/g, '_')}`;
    const disputeId = `dp_of_${chargeId}`;
    const invoice = invoiceStates({ subtotal: 4_000, chargeId });
    const withdrawn = { ...disputeWithFunds(disputeId, 4_000, 'needs_response', [-4_000]), charge: chargeId };

    await deliverAll([stripeEvent('invoice.paid', invoice.paid), stripeEvent('charge.dispute.funds_withdrawn', withdrawn)], order);

    const ledger = await invoiceLedger(invoice.id);
    expect(ledger.entries.map((e: { kind: string }) => e.kind)).toEqual(expect.arrayContaining(['payment_settled', 'dispute_funds_withdrawn']));
    expect(ledger.position).toMatchObject({ paid: 4_000, disputed: 4_000, outstanding: 0 });
  });

  test('when a dispute of the paying charge is won, then the invoice\'s position shows nothing disputed and both movements are listed', async () => {
    const chargeId = 'ch_disputed_and_won';
    const disputeId = 'dp_won_for_invoice';
    const invoice = invoiceStates({ subtotal: 2_500, chargeId });
    const dispute = (status: string, funds: number[]) => ({ ...disputeWithFunds(disputeId, 2_500, status, funds), charge: chargeId });

    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice.paid));
    await deliverTwiceAndWait(service, stripeEvent('charge.dispute.funds_withdrawn', dispute('needs_response', [-2_500])));
    await deliverTwiceAndWait(service, stripeEvent('charge.dispute.closed', dispute('won', [-2_500, 2_500])));

    const ledger = await invoiceLedger(invoice.id);
    expect(ledger.entries.map((e: { kind: string }) => e.kind).filter((kind: string) => kind.startsWith('dispute'))).toEqual(['dispute_funds_withdrawn', 'dispute_funds_reinstated']);
    expect(ledger.position).toMatchObject({ paid: 2_500, disputed: 0 });
  });
});

describe('connected accounts', () => {
  test('when a connected account\'s invoice is paid, then the entries are in that account\'s books, and the platform\'s books do not move', async () => {
    const account = 'acct_ledgerbooks1';
    const invoice = invoiceStates({ subtotal: 6_100 });
    const platformBefore = await admin(service, '/ledger/balance?account=platform');

    await deliverAll([stripeEvent('invoice.finalized', invoice.open, { account }), stripeEvent('invoice.paid', invoice.paid, { account })], 'in Stripe order');

    const connected = await admin(service, `/ledger/balance?account=${account}`);
    expect(connected.body.accounts).toEqual([
      { account: 'accounts_receivable', currency: 'usd', debit: 6_100, credit: 6_100 },
      { account: 'revenue', currency: 'usd', debit: 0, credit: 6_100 },
      { account: 'stripe_balance', currency: 'usd', debit: 6_100, credit: 0 },
    ]);
    expect((await admin(service, '/ledger/balance?account=platform')).body).toEqual(platformBefore.body);
  });
});

describe('charges outside invoices, without a Stripe key', () => {
  test('when a newer payload leaves out whether the charge pays an invoice, then it is not booked as a sale (it cannot be told apart)', async () => {
    const charge = capturedCharge({ amount: 1_300 });

    await deliverTwiceAndWait(service, stripeEvent('charge.succeeded', charge, { api_version: '2025-03-31.basil' }));

    expect(await movements(service, charge.id)).toEqual({});
  });
});
