import { dunningExecutionSummary, eventExecutionSummary } from '../src/platform/execution-summary';

const noRefs = { customerId: null, invoiceId: null, subscriptionId: null };

test('when a refund event is summarised, then the summary names the charge, its customer and its amount in its currency', () => {
  const object = { id: 'ch_1', object: 'charge', amount: 1_500, currency: 'jpy', customer: 'cus_1' };

  const summary = eventExecutionSummary({ id: 'evt_1', type: 'charge.refunded', livemode: false }, { ...noRefs, customerId: 'cus_1' }, object);

  expect(summary.staticSummary).toBe('charge.refunded · ch_1 · cus_1 · ¥1,500 JPY');
  expect(summary.staticDetails).toContain('**Mode:** test');
});

test('when an operator retries an event, then its summary is made from the stored ids and says so', () => {
  const summary = eventExecutionSummary({ id: 'evt_2', type: 'invoice.paid' }, { customerId: 'cus_2', invoiceId: 'in_2', subscriptionId: null }, undefined, 'retried by an operator');

  expect(summary.staticSummary).toBe('invoice.paid · in_2 · cus_2 · retried by an operator');
});

test('when an event has no amount, then the summary leaves it out instead of inventing one', () => {
  const summary = eventExecutionSummary({ id: 'evt_3', type: 'customer.updated' }, { ...noRefs, customerId: 'cus_3' }, { id: 'cus_3', object: 'customer' });

  expect(summary.staticSummary).toBe('customer.updated · cus_3');
  expect(summary.staticDetails).not.toContain('Amount');
});

test('when an object\'s currency is not a currency code, then the summary leaves the amount out instead of throwing', () => {
  const summary = eventExecutionSummary({ id: 'evt_6', type: 'invoice.created' }, { ...noRefs, invoiceId: 'in_6' }, { id: 'in_6', object: 'invoice', amount_due: 100, currency: 'dollars' });

  expect(summary.staticSummary).toBe('invoice.created · in_6');
});

test('when ids are very long, then the one-line summary stays within 200 characters', () => {
  const summary = eventExecutionSummary({ id: 'evt_4', type: 'invoice.updated' }, { ...noRefs, customerId: `cus_${'x'.repeat(300)}` }, { id: 'in_4', object: 'invoice' });

  expect(summary.staticSummary.length).toBe(200);
});

test('when a dunning is summarised, then its schedule reads in days, hours or seconds and names the final action', () => {
  const summary = dunningExecutionSummary({
    invoiceId: 'in_5',
    customerId: 'cus_5',
    subscriptionId: 'sub_5',
    amount: 4_900,
    currency: 'eur',
    scheduleMs: [0, 3 * 86_400_000, 7_200_000, 30_000],
    finalAction: 'cancel_subscription',
  });

  expect(summary.staticSummary).toBe('dunning · in_5 · cus_5 · €49.00 EUR');
  expect(summary.staticDetails).toContain('**Schedule:** notices at 0d, 3d, 2h, 30s, then cancel_subscription');
  expect(summary.staticDetails).toContain('**Opened by:** a failed payment');
});
