import { paymentMethodSummary } from '../activities/payments';
import { readInvoice } from '../src/platform/invoice';
import { documentTotals } from '../src/platform/pdf';
import type { Payment } from '../src/store/payments';
import { paidInvoice } from './support/billing-events';

/** The totals block of a document adds up, whatever discounts, taxes and credit the invoice carries. */

const amountOf = (totals: [string, number][], label: string) => totals.find(([name]) => name === label)?.[1];

function expectAddsUp(totals: [string, number][]) {
  const added = ['Subtotal', 'Discount', 'Tax'].reduce((sum, label) => sum + (amountOf(totals, label) ?? 0), 0);
  expect(added).toBe(amountOf(totals, 'Total'));
}

describe('document totals', () => {
  test('when a discount sits on a line (already inside the subtotal and also listed in total_discount_amounts), then the totals still add up', () => {
    const invoice = readInvoice({
      ...paidInvoice({ subtotal: 9_000, tax: 900 }),
      total: 9_900,
      total_discount_amounts: [{ amount: 1_000 }],
      lines: { data: [{ amount: 10_000, description: 'Pro', quantity: 1, discount_amounts: [{ amount: 1_000 }] }] },
    });

    const totals = documentTotals(invoice, 'invoice');

    expectAddsUp(totals);
    expect(amountOf(totals, 'Discount')).toBe(-1_000);
  });

  test('when tax is inclusive, then it is not added again', () => {
    const invoice = readInvoice({
      ...paidInvoice({ subtotal: 12_000 }),
      total: 12_000,
      total_taxes: [{ amount: 2_000, tax_behavior: 'inclusive' }],
    });

    const totals = documentTotals(invoice, 'receipt');

    expectAddsUp(totals);
    expect(amountOf(totals, 'Tax')).toBeUndefined();
    expect(amountOf(totals, 'Total')).toBe(12_000);
  });

  test('when credit from the balance paid part of it, then the credit applied and the amount paid are shown', () => {
    const invoice = readInvoice({ ...paidInvoice({ subtotal: 4_000 }), starting_balance: -1_000, ending_balance: 0, amount_due: 3_000, amount_paid: 3_000 });

    const totals = documentTotals(invoice, 'receipt');

    expect(totals).toEqual([
      ['Subtotal', 4_000],
      ['Total', 4_000],
      ['Applied from credit balance', -1_000],
      ['Amount paid', 3_000],
    ]);
  });
});

describe('what was paid, and where', () => {
  test.each([
    ['part of it was paid outside Stripe', { amount_paid_off_stripe: 4_000 }, [['Amount paid', 10_000], ['Of which paid outside Stripe', 4_000]]],
    ['all of it was paid outside Stripe', { amount_paid_off_stripe: 10_000 }, [['Amount paid (outside Stripe)', 10_000]]],
    ['the customer paid more than was due', { amount_paid: 12_000, amount_overpaid: 2_000 }, [['Amount paid', 12_000], ['Overpaid, credited to your balance', 2_000]]],
  ])('when %s, then the receipt says so after the total', (_how, paid, rows) => {
    const invoice = readInvoice({ ...paidInvoice({ subtotal: 10_000 }), ...paid });

    expect(documentTotals(invoice, 'receipt')).toEqual([['Subtotal', 10_000], ['Total', 10_000], ...rows]);
  });

  test('when all of it was paid outside Stripe without being marked paid out of band, then the payment method says so', () => {
    const invoiceObject = { ...paidInvoice({ subtotal: 10_000 }), amount_paid_off_stripe: 10_000 };
    const payment = { amount: 10_000, payment_method: null, payment_intent_id: null, charge_id: null, invoice: invoiceObject } as unknown as Payment;

    expect(paymentMethodSummary(payment, readInvoice(invoiceObject))).toBe('Paid outside Stripe');
  });

  test.each(['amount_overpaid', 'amount_paid_off_stripe'])('when %s is more than amount_paid, then the invoice is refused naming both', (field) => {
    expect(() => readInvoice({ ...paidInvoice({ subtotal: 10_000 }), [field]: 10_001 })).toThrow(`invoice.${field} (10001) is not a part of invoice.amount_paid (10000)`);
  });
});

describe('what documents read from an invoice', () => {
  test('when a tax rate is expanded (older shape), then its name and percentage label the tax; when only its taxable amount is known, the percentage comes from it', () => {
    const older = readInvoice({ ...paidInvoice({ shape: 'old', subtotal: 10_000 }), total_tax_amounts: [{ amount: 1_900, inclusive: false, tax_rate: { display_name: 'VAT', percentage: 19 } }] });
    const newer = readInvoice({ ...paidInvoice({ subtotal: 10_000 }), total_taxes: [{ amount: 888, tax_behavior: 'inclusive', taxable_amount: 10_000 }] });

    expect(older.taxes).toEqual([{ label: 'VAT (19%)', amount: 1_900, inclusive: false }]);
    expect(newer.taxes).toEqual([{ label: 'Tax (8.88%)', amount: 888, inclusive: true }]);
  });

  test('when a line repeats its quantity in its description, then the description drops it and the unit price is read from either shape', () => {
    const invoice = readInvoice({
      ...paidInvoice({ subtotal: 14_700 }),
      lines: {
        data: [
          { amount: 9_800, quantity: 2, description: '2 × Pro plan (at $49.00 / month)', price: { unit_amount: 4_900 } },
          { amount: 4_900, quantity: 1, description: 'Pro plan', pricing: { unit_amount_decimal: '4900' } },
          { amount: 0, quantity: 12, description: '3 × not the quantity' },
        ],
      },
    });

    expect(invoice.lines.map((line) => [line.description, line.quantity, line.unitAmount])).toEqual([
      ['Pro plan (at $49.00 / month)', 2, 4_900],
      ['Pro plan', 1, 4_900],
      ['3 × not the quantity', 12, null],
    ]);
  });

  test('when the customer has a billing address and tax ids, then they read as printable lines', () => {
    const invoice = readInvoice({
      ...paidInvoice({ subtotal: 1_000 }),
      customer_address: { line1: '1 Rue de Rivoli', line2: null, postal_code: '75001', city: 'Paris', state: null, country: 'FR' },
      customer_tax_ids: [{ type: 'eu_vat', value: 'FR12345678901' }, { type: 'gb_vat', value: null }],
    });

    expect(invoice.customerAddress).toEqual(['1 Rue de Rivoli', '75001 Paris', 'FR']);
    expect(invoice.customerTaxIds).toEqual(['EU VAT FR12345678901']);
  });
});

describe('what paid an invoice that took no money', () => {
  /** A recorded payment of 0 with no card, charge or payment intent, as Stripe reports an invoice settled without money. */
  function unpaidInCash(invoice: Record<string, any>): [Payment, ReturnType<typeof readInvoice>] {
    const payment = { amount: 0, payment_method: null, payment_intent_id: null, charge_id: null, invoice } as unknown as Payment;
    return [payment, readInvoice(invoice)];
  }
  const settled = { ...paidInvoice({ subtotal: 4_000 }), amount_paid: 0, amount_remaining: 0, payments: { object: 'list', data: [], has_more: false } };

  test.each([
    ['the customer\'s credit balance', { starting_balance: -4_000, ending_balance: 0, amount_due: 0 }, 'Account credit'],
    ['a credit note before payment', { starting_balance: 0, ending_balance: 0, amount_due: 0 }, 'Credit note'],
    ['both', { starting_balance: -1_000, ending_balance: 0, amount_due: 0 }, 'Account credit and credit note'],
  ])('when %s settled it, then the documents name that as the payment method', (_how, balances, expected) => {
    const [payment, invoice] = unpaidInCash({ ...settled, ...balances });

    expect(paymentMethodSummary(payment, invoice)).toBe(expected);
  });
});
