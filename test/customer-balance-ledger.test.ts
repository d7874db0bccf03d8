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
/** One of a customer's balance transactions: `amount` moved the balance to `endingBalance`, `ago` seconds before now. */
function balanceTransaction(customer: string, type: string, amount: number, endingBalance: number, ago = 0): Record<string, any> {
  sequence += 1;
  return {
    object: 'customer_balance_transaction',
    id: `cbtxn_test_${customer}_${sequence}`,
    customer,
    type,
    amount,
    ending_balance: endingBalance,
    currency: 'usd',
    invoice: null,
    credit_note: null,
    created: Math.floor(Date.now() / 1000) - ago,
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
  const credit = balanceTransaction('cus_test_paying', 'adjustment', -2_000, -2_000);
  stripe.setCustomerBalanceTransactions('cus_test_paying', [credit]);
  const invoice: Record<string, any> = { ...paidInvoice({ subtotal: 5_000 }), starting_balance: -2_000, ending_balance: 0, amount_due: 3_000, amount_paid: 3_000 };

  await deliverTwiceAndWait(service, balanceUpdated('cus_test_paying', 0, -2_000));
  stripe.setCustomerBalanceTransactions('cus_test_paying', [balanceTransaction('cus_test_paying', 'applied_to_invoice', 2_000, 0), credit]);
  await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice));
  await deliverTwiceAndWait(service, balanceUpdated('cus_test_paying', -2_000, 0));

  expect(await movements(service, 'cus_test_paying')).toEqual({ customer_balance_adjustments: 2_000, customer_balance: -2_000 });
  expect(await movements(service, invoice.id)).toEqual({ revenue: -5_000, customer_balance: 2_000, stripe_balance: 3_000 });
  const close = await admin(service, `/reports/close?month=${new Date().toISOString().slice(0, 7)}`);
  expect(close.body.totals).toEqual([expect.objectContaining({ currency: 'usd', revenue: 5_000, balance_adjustments: 2_000 })]);
  await expectBalanced(service);
});

test('when a customer is created owing a balance and later credited by hand, then each of the two is booked once, and neither an invoice\'s or a credit note\'s change nor an older credit of the same amount', async () => {
  const { service, stripe } = environment;
  const days = 86_400;
  // Newest first, as Stripe lists them, three a page.
  stripe.setCustomerBalanceTransactions('cus_test_initial', [
    balanceTransaction('cus_test_initial', 'adjustment', -300, -1_000),
    balanceTransaction('cus_test_initial', 'credit_note', -700, -700, 60),
    balanceTransaction('cus_test_initial', 'applied_to_invoice', -1_500, 0, 120),
    balanceTransaction('cus_test_initial', 'initial', 1_500, 1_500, 180),
    balanceTransaction('cus_test_initial', 'adjustment', -300, -1_000, 3 * days),
  ]);

  await deliverTwiceAndWait(service, stripeEvent('customer.created', stripeObject('customer', { id: 'cus_test_initial', balance: 1_500 }), { created: Math.floor(Date.now() / 1000) - 180 }));
  await deliverTwiceAndWait(service, balanceUpdated('cus_test_initial', 0, -700));
  await deliverTwiceAndWait(service, balanceUpdated('cus_test_initial', -700, -1_000));

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
