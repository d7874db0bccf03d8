import { stripeEvent, stripeObject } from './support/stripe-events';
import { admin, deliverTwiceAndWait } from './support/service';
import { useServiceWithRecordedStripe } from './support/stripe-recorder';

/**
 * The close compared with stripe-mock's own balance transactions, as the API answers them: its
 * list holds one charge transaction (February 2009), which the books explain once the charge it
 * belongs to is booked and its transaction fetched.
 */

const environment = useServiceWithRecordedStripe();

const closeOfFebruary2009 = async () => (await admin(environment.service, '/reports/close?month=2009-02')).body;

test('when stripe-mock lists a charge transaction the books do not have, then the close lists it; once the charge is booked, the close matches', async () => {
  const charge: Record<string, any> = { ...stripeObject('charge'), captured: true, amount_captured: 100, status: 'succeeded', invoice: null };

  const before = await closeOfFebruary2009();
  expect(before.stripe_comparison).toEqual({
    checked: true,
    stripe_transactions: 1,
    booked_transactions: 0,
    differences: [expect.objectContaining({ balance_transaction: charge.balance_transaction, source: charge.id, kind: 'not_in_ledger', stripe: { amount: 100, fee: 0 }, ledger: null })],
  });

  await deliverTwiceAndWait(environment.service, stripeEvent('charge.succeeded', charge, { created: charge.created }));

  const after = await closeOfFebruary2009();
  expect(after.stripe_comparison).toEqual({ checked: true, stripe_transactions: 1, booked_transactions: 1, differences: [] });
  expect(after.totals).toEqual([{ currency: 'usd', revenue: 100, tax: 0, refunds: 0, disputes: 0, bad_debt: 0, fees: 0, payouts: 0, topups: 0, application_fees: 0, transfers: 0, platform_fees: 0, balance_adjustments: 0 }]);
  expect(environment.stripe.calls).toContain(`GET /v1/balance_transactions/${charge.balance_transaction}`);
});
