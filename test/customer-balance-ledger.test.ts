import { paidInvoice } from './support/billing-events';
import { expectBalanced, movements } from './support/ledger';
import { admin, deliverTwiceAndWait, eventStatusWhenDone } from './support/service';
import { useServiceWithRecordedStripe } from './support/stripe-recorder';
import { stripeEvent, stripeObject } from './support/stripe-events';

/**
 * A customer's credit balance changed by hand (the Dashboard's "adjust balance", a balance given
 * at creation) reaches us only as a customer event whose balance moved: its balance transactions
 * are listed from Stripe and each made by hand is booked once, so that `customer_balance` nets to
 * Stripe's balance once the credit is spent on an invoice.
 */

const environment = useServiceWithRecordedStripe();

let sequence = 0;
function balanceTransaction(customer: string, type: string, amount: number, invoice: string | null = null): Record<string, any> {
  sequence += 1;
  return {
    object: 'customer_balance_transaction',
    id: `cbtxn_test_${customer}_${sequence}`,
    customer,
    type,
    amount,
    currency: 'usd',
    invoice,
    credit_note: null,
    created: Math.floor(Date.now() / 1000),
    livemode: false,
  };
}

/** `customer.updated` as Stripe sends it when the balance moved from `before` to `after`. */
function balanceUpdated(customer: string, before: number, after: number) {
  const object = stripeObject('customer', { id: customer, balance: after, email: `${customer}@example.com` });
  return stripeEvent('customer.updated', object, { data: { object, previous_attributes: { balance: before } } });
}

test('when finance grants a credit by hand and the customer spends it on an invoice, then the credit is a balance adjustment and the customer balance ends at zero, as in Stripe', async () => {
  const { service, stripe } = environment;
  const credit = balanceTransaction('cus_test_paying', 'adjustment', -2_000);
  stripe.setCustomerBalanceTransactions('cus_test_paying', [credit]);
  const invoice: Record<string, any> = { ...paidInvoice({ subtotal: 5_000 }), starting_balance: -2_000, ending_balance: 0, amount_due: 3_000, amount_paid: 3_000 };

  await deliverTwiceAndWait(service, balanceUpdated('cus_test_paying', 0, -2_000));
  stripe.setCustomerBalanceTransactions('cus_test_paying', [balanceTransaction('cus_test_paying', 'applied_to_invoice', 2_000, invoice.id), credit]);
  await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice));
  await deliverTwiceAndWait(service, balanceUpdated('cus_test_paying', -2_000, 0));

  expect(await movements(service, 'cus_test_paying')).toEqual({ customer_balance_adjustments: 2_000, customer_balance: -2_000 });
  expect(await movements(service, invoice.id)).toEqual({ revenue: -5_000, customer_balance: 2_000, stripe_balance: 3_000 });
  const close = await admin(service, `/reports/close?month=${new Date().toISOString().slice(0, 7)}`);
  expect(close.body.totals).toEqual([expect.objectContaining({ currency: 'usd', revenue: 5_000, balance_adjustments: 2_000 })]);
  await expectBalanced(service);
});

test('when a customer is created owing a balance, and more than a page of balance transactions is listed, then each change made by hand is booked once', async () => {
  const { service, stripe } = environment;
  const made = [
    balanceTransaction('cus_test_initial', 'adjustment', -300),
    balanceTransaction('cus_test_initial', 'credit_note', -700),
    balanceTransaction('cus_test_initial', 'applied_to_invoice', 400, 'in_test_initial'),
    balanceTransaction('cus_test_initial', 'initial', 1_500),
  ];
  stripe.setCustomerBalanceTransactions('cus_test_initial', made);

  await deliverTwiceAndWait(service, stripeEvent('customer.created', stripeObject('customer', { id: 'cus_test_initial', balance: 1_500 })));
  await deliverTwiceAndWait(service, balanceUpdated('cus_test_initial', 1_500, 1_200));

  // Only the initial debt (+15.00) and the credit by hand (−3.00): the credit note and the invoice book their own.
  expect(await movements(service, 'cus_test_initial')).toEqual({ customer_balance: 1_200, customer_balance_adjustments: -1_200 });
  await expectBalanced(service);
});

test('when a customer update leaves the balance alone, then Stripe is not asked for its balance transactions', async () => {
  const { service, stripe } = environment;
  const renamed = stripeObject('customer', { id: 'cus_test_renamed', balance: -500, name: 'Renamed' });

  await deliverTwiceAndWait(service, stripeEvent('customer.updated', renamed, { data: { object: renamed, previous_attributes: { name: 'Before' } } }));

  expect(stripe.calls).not.toContain('GET /v1/customers/cus_test_renamed/balance_transactions');
  expect(await movements(service, 'cus_test_renamed')).toEqual({});
});

test('when Stripe refuses to list a connected account\'s customer (the account disconnected), then the event is processed and nothing is booked', async () => {
  const { service, stripe } = environment;
  stripe.disconnect('acct_test_gone');
  const event = { ...balanceUpdated('cus_test_gone', 0, -900), account: 'acct_test_gone' };

  await deliverTwiceAndWait(service, event);

  expect(await eventStatusWhenDone(service, event.id)).toBe('processed');
  expect(await movements(service, 'cus_test_gone')).toEqual({});
});
