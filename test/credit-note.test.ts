import { readCreditNote } from '../src/platform/credit-note';
import { stripeObject } from './support/stripe-events';

/** Credit notes read by the shape they carry, older and newer API versions alike. */

const note = (fields: Record<string, unknown>) =>
  stripeObject('credit_note', { amount: 1_000, total: 1_000, total_taxes: [], refunds: [], pre_payment_amount: 0, post_payment_amount: 1_000, out_of_band_amount: null, ...fields });

describe('reading a credit note', () => {
  test('when a newer credit note lists its refunds, then the rest of the post-payment part is a balance credit', () => {
    const facts = readCreditNote(note({ refunds: [{ refund: 're_1', amount_refunded: 600 }], out_of_band_amount: 100 }));

    expect(facts).toMatchObject({ amount: 1_000, prePayment: 0, refunded: 600, outOfBand: 100, balanceCredit: 300 });
  });

  test('when an older credit note names a refund and no balance transaction, then what is not out of band was refunded', () => {
    const older = note({ refunds: undefined, refund: 're_old', customer_balance_transaction: null, pre_payment_amount: undefined, type: 'post_payment' });

    expect(readCreditNote(older)).toMatchObject({ prePayment: 0, refunded: 1_000, balanceCredit: 0 });
  });

  test('when an older pre-payment credit note has no pre_payment_amount, then all of it lowers the invoice', () => {
    const older = note({ refunds: undefined, pre_payment_amount: undefined, type: 'pre_payment', total_taxes: undefined, tax_amounts: [{ amount: 90 }] });

    expect(readCreditNote(older)).toMatchObject({ prePayment: 1_000, tax: 90, balanceCredit: 0 });
  });

  test('when its parts add up to more than its amount, then it is refused with the reason', () => {
    expect(() => readCreditNote(note({ pre_payment_amount: 800, refunds: [{ refund: 're_1', amount_refunded: 500 }] }))).toThrow(/add up to more/);
  });

  test('when it names no invoice, then it is refused with the reason', () => {
    expect(() => readCreditNote(note({ invoice: null }))).toThrow(/credit_note.invoice/);
  });
});
