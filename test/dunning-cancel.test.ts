import { paidInvoice } from './support/billing-events';
import { deliverTwiceAndWait } from './support/service';
import { useServiceWithRecordedStripe } from './support/stripe-recorder';
import { stripeEvent } from './support/stripe-events';

jest.setTimeout(60_000);

const environment = useServiceWithRecordedStripe({ DUNNING_SCHEDULE: '0s,1s', DUNNING_FINAL_ACTION: 'cancel_subscription', DUNNING_FINAL_GRACE: '1s' });

/** An unpaid invoice of its own subscription, whose dunning runs to its end, and the Stripe calls about it. */
async function dunningRunsOut(subscriptionId: string, account?: string) {
  const { service, stripe } = environment;
  const invoice = paidInvoice({ status: 'open', subtotal: 2_000, subscriptionId, customerEmail: `${subscriptionId}@example.com` });
  await deliverTwiceAndWait(service, stripeEvent('invoice.payment_failed', invoice, account ? { account } : {}));
  await service.temporal.workflow.getHandle(`dunning-${invoice.id}`).result();
  const calls = stripe.calls.map((call, i) => ({ call, account: stripe.accounts[i] }));
  return calls.filter(({ call }) => call.includes(invoice.id) || call.includes(subscriptionId));
}

test('when the dunning of a subscription\'s invoice runs out, then Stripe cancels the subscription once and it is canceled here', async () => {
  const calls = await dunningRunsOut('sub_dunning_platform');
  const { service } = environment;

  expect(calls.filter(({ call }) => call.startsWith('DELETE'))).toEqual([{ call: 'DELETE /v1/subscriptions/sub_dunning_platform', account: '' }]);
  const { rows } = await service.database.db.query('SELECT status FROM subscriptions WHERE id = $1', ['sub_dunning_platform']);
  expect(rows).toEqual([{ status: 'canceled' }]);
});

test('when the invoice belongs to a connected account, then its subscription is canceled as that account', async () => {
  const calls = await dunningRunsOut('sub_dunning_connected', 'acct_dunning_cancel');

  expect(calls.filter(({ call }) => call.startsWith('DELETE'))).toEqual([{ call: 'DELETE /v1/subscriptions/sub_dunning_connected', account: 'acct_dunning_cancel' }]);
  expect(calls.every(({ account }) => account === 'acct_dunning_cancel')).toBe(true);
});
