import { readInvoice } from '../src/platform/invoice';
import { documentTotals } from '../src/platform/pdf';
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
