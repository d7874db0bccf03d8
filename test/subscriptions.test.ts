import { Client as PgClient } from 'pg';
import { redeemPasswordToken } from '../src/store/password-tokens';
import { admin, deliverTwiceAndWait, startTestService, testAdminKey, type TestService } from './support/service';
import { connectedAccount, paidInvoice } from './support/billing-events';
import { stripeEvent, stripeObject } from './support/stripe-events';

let service: TestService;

beforeAll(async () => {
  service = await startTestService({
    overrides: {
      PLAN_PRICES: 'pro=price_pro_m|price_pro_y,team=price_team',
      PLAN_ENTITLEMENTS: 'pro=api|exports,team=api|exports|sso',
    },
  });
});

afterAll(async () => {
  await service?.stop();
});

let counter = 0;
/** A subscription of Stripe's sample shape for one customer and price, in an old or new API version. */
function subscription(customer: string, price: string, status = 'active', shape: 'old' | 'new' = 'new'): Record<string, any> {
  counter += 1;
  const base = stripeObject('subscription', { id: `sub_test_${customer}`, customer, status, cancel_at_period_end: false });
  const item = { ...base.items.data[0], price: { ...base.items.data[0].price, id: price } };
  const period = { current_period_start: 1_790_000_000 + counter, current_period_end: 1_792_600_000 + counter };
  return shape === 'new'
    ? { ...base, items: { ...base.items, data: [{ ...item, ...period }] } }
    : { ...base, items: { ...base.items, data: [item] }, ...period };
}

async function customer(id: string): Promise<any> {
  const response = await fetch(`${service.url}/admin/customers/${id}`, { headers: { authorization: `Bearer ${testAdminKey}` } });
  return response.json();
}

const active = (view: any) => view.entitlements.filter((e: any) => e.active).map((e: any) => e.entitlement);
const at = (offsetSeconds: number) => Math.floor(Date.now() / 1000) + offsetSeconds;

describe('checkout.session.completed', () => {
  test('when a subscription checkout completes, then customer and subscription exist, and one welcome email carries a single-use password link', async () => {
    const session = stripeObject('checkout.session', {
      id: 'cs_test_welcome',
      mode: 'subscription',
      status: 'complete',
      payment_status: 'paid',
      customer: 'cus_checkout',
      subscription: 'sub_test_cus_checkout',
      customer_details: { ...stripeObject('checkout.session').customer_details, email: 'new@example.com', name: 'New Customer' },
    });

    await deliverTwiceAndWait(service, stripeEvent('checkout.session.completed', session));
    await deliverTwiceAndWait(service, stripeEvent('customer.subscription.created', subscription('cus_checkout', 'price_team')));

    const view = await customer('cus_checkout');
    expect(view).toMatchObject({ email: 'new@example.com', name: 'New Customer', subscriptions: [{ status: 'active', tier: 'team' }] });
    expect(active(view)).toEqual(['api', 'exports', 'sso']);
    const welcome = service.smtp.to('new@example.com');
    expect(welcome.map((m) => m.subject)).toEqual(['Welcome to Example Inc.']);
    const token = decodeURIComponent(/set-password\?token=([\w%-]+)/.exec(welcome[0].text ?? '')![1]);
    const stored = await service.database.db.query('SELECT token_hash FROM password_tokens WHERE customer_id = $1', ['cus_checkout']);
    expect(stored.rows).toHaveLength(1);
    expect(stored.rows[0].token_hash).not.toContain(token);
    expect(await redeemPasswordToken(service.database.db, token)).toBe('cus_checkout');
    expect(await redeemPasswordToken(service.database.db, token)).toBeUndefined();
  });
});

describe('checkout paid by a delayed payment method', () => {
  /** A subscription checkout of one customer, in the payment state given. */
  const checkout = (customer: string, paymentStatus: 'paid' | 'unpaid' | 'no_payment_required') =>
    stripeObject('checkout.session', {
      id: `cs_test_${customer}`,
      mode: 'subscription',
      status: 'complete',
      payment_status: paymentStatus,
      customer,
      subscription: `sub_test_${customer}`,
      customer_details: { ...stripeObject('checkout.session').customer_details, email: `${customer}@example.com`, name: 'Delayed Payer' },
    });
  const statusOf = async (eventId: string) => (await admin(service, `/events/${eventId}`)).body.status;

  test('when the checkout completes unpaid, then the customer exists, the subscription grants nothing and nobody is welcomed yet', async () => {
    const completed = stripeEvent('checkout.session.completed', checkout('cus_unpaid', 'unpaid'));

    await deliverTwiceAndWait(service, completed);

    const view = await customer('cus_unpaid');
    expect(view).toMatchObject({ email: 'cus_unpaid@example.com', name: 'Delayed Payer', subscriptions: [{ id: 'sub_test_cus_unpaid', status: null }] });
    expect(service.smtp.to('cus_unpaid@example.com')).toEqual([]);
    expect(await statusOf(completed.id)).toBe('processed');
  });

  test('when its payment then succeeds, delivered twice at once, then the customer is welcomed once and the subscription counts as active', async () => {
    await deliverTwiceAndWait(service, stripeEvent('checkout.session.completed', checkout('cus_settles', 'unpaid')));

    await deliverTwiceAndWait(service, stripeEvent('checkout.session.async_payment_succeeded', checkout('cus_settles', 'paid')));

    expect(service.smtp.to('cus_settles@example.com').map((m) => m.subject)).toEqual(['Welcome to Example Inc.']);
    expect((await customer('cus_settles')).subscriptions).toMatchObject([{ status: 'active' }]);
  });

  test('when its payment then fails, then nobody is welcomed, the subscription grants nothing and the event is processed', async () => {
    await deliverTwiceAndWait(service, stripeEvent('checkout.session.completed', checkout('cus_declined', 'unpaid')));
    const failed = stripeEvent('checkout.session.async_payment_failed', checkout('cus_declined', 'unpaid'));

    await deliverTwiceAndWait(service, failed);

    expect(service.smtp.to('cus_declined@example.com')).toEqual([]);
    expect((await customer('cus_declined')).subscriptions).toMatchObject([{ status: null }]);
    expect(await statusOf(failed.id)).toBe('processed');
  });

  test('when the success is delivered before the unpaid completion, then the customer is welcomed once and the subscription stays active', async () => {
    await deliverTwiceAndWait(service, stripeEvent('checkout.session.async_payment_succeeded', checkout('cus_reordered', 'paid')));

    await deliverTwiceAndWait(service, stripeEvent('checkout.session.completed', checkout('cus_reordered', 'unpaid')));

    expect(service.smtp.to('cus_reordered@example.com')).toHaveLength(1);
    expect((await customer('cus_reordered')).subscriptions).toMatchObject([{ status: 'active' }]);
  });

  test('when a subscription\'s own event came first, then the payment\'s success leaves its status alone', async () => {
    await deliverTwiceAndWait(service, stripeEvent('customer.subscription.created', subscription('cus_incomplete', 'price_team', 'incomplete')));

    await deliverTwiceAndWait(service, stripeEvent('checkout.session.async_payment_succeeded', checkout('cus_incomplete', 'paid')));

    expect((await customer('cus_incomplete')).subscriptions).toMatchObject([{ status: 'incomplete' }]);
    expect(active(await customer('cus_incomplete'))).toEqual([]);
  });

  test('when a checkout needs no payment (a free trial), then the customer is welcomed at once', async () => {
    await deliverTwiceAndWait(service, stripeEvent('checkout.session.completed', checkout('cus_trial', 'no_payment_required')));

    expect(service.smtp.to('cus_trial@example.com')).toHaveLength(1);
  });
});

describe('a one-off order paid by a delayed payment method', () => {
  /** A one-off (`mode: payment`) checkout of a guest or a customer, unpaid until its payment settles. */
  const order = (id: string, customer: string | null) =>
    stripeObject('checkout.session', {
      id,
      mode: 'payment',
      status: 'complete',
      payment_status: 'unpaid',
      customer,
      subscription: null,
      amount_total: 4500,
      currency: 'eur',
      customer_details: { ...stripeObject('checkout.session').customer_details, email: `${id}@example.com` },
    });

  test('when a guest\'s payment fails, delivered twice at once, then the buyer is told once, with the amount and where to order again', async () => {
    const failed = stripeEvent('checkout.session.async_payment_failed', order('cs_guest_declined', null));

    await deliverTwiceAndWait(service, failed);

    const mails = service.smtp.to('cs_guest_declined@example.com');
    expect(mails.map((m) => m.subject)).toEqual(['Your payment of €45.00 did not go through']);
    expect(mails[0].text).toContain('You can place it again here: http://');
    const effects = (await admin(service, `/events/${failed.id}`)).body.effects;
    expect(effects.emails).toMatchObject([{ key: 'checkout-payment-failed:cs_guest_declined' }]);
  });

  test('when a customer\'s order completes unpaid and its payment then fails, then they get the failure and no welcome', async () => {
    await deliverTwiceAndWait(service, stripeEvent('checkout.session.completed', order('cs_order_declined', 'cus_order_declined')));

    await deliverTwiceAndWait(service, stripeEvent('checkout.session.async_payment_failed', order('cs_order_declined', 'cus_order_declined')));

    expect(service.smtp.to('cs_order_declined@example.com').map((m) => m.subject)).toEqual(['Your payment of €45.00 did not go through']);
  });

  test('when a connected account\'s buyer is told their payment failed, then the email names the account as the seller', async () => {
    await deliverTwiceAndWait(service, stripeEvent('account.updated', connectedAccount('acct_orders', 'Riverside Tickets SA'), { account: 'acct_orders' }));

    await deliverTwiceAndWait(service, stripeEvent('checkout.session.async_payment_failed', order('cs_connected_declined', null), { account: 'acct_orders' }));

    const [mail] = service.smtp.to('cs_connected_declined@example.com');
    expect(mail.text).toContain('Your payment of €45.00 to Riverside Tickets SA did not go through');
    expect(mail.text).not.toContain('Example Inc.');
  });

  test('when a customer\'s order is paid later, then the welcome thanks them for the order, not for subscribing', async () => {
    await deliverTwiceAndWait(service, stripeEvent('checkout.session.async_payment_succeeded', { ...order('cs_order_paid', 'cus_order_paid'), payment_status: 'paid' }));

    const [welcome] = service.smtp.to('cs_order_paid@example.com');
    expect(welcome.text).toContain('Thank you for your order.');
  });
});

describe('subscriptions and entitlements', () => {
  test('when a subscription carries an add-on before its plan, then the tier is the plan\'s and its entitlements are granted', async () => {
    const withPlan = subscription('cus_addon', 'price_team');
    const plan = withPlan.items.data[0];
    const addOn = { ...plan, id: 'si_addon', price: { ...plan.price, id: 'price_extra_storage' } };
    const event = stripeEvent('customer.subscription.created', { ...withPlan, items: { ...withPlan.items, data: [addOn, plan] } });

    await deliverTwiceAndWait(service, event);

    const view = await customer('cus_addon');
    expect(view.subscriptions).toMatchObject([{ status: 'active', tier: 'team' }]);
    expect(active(view)).toEqual(['api', 'exports', 'sso']);
  });

  test('when a pro subscription is created, then its entitlements are granted and a listener on entitlements_changed hears the customer id', async () => {
    const listener = new PgClient({ connectionString: service.database.url });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (message) => heard.push(message.payload ?? ''));
    await listener.query('LISTEN entitlements_changed');

    await deliverTwiceAndWait(service, stripeEvent('customer.subscription.created', subscription('cus_grant', 'price_pro_m')));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await listener.end();

    expect(active(await customer('cus_grant'))).toEqual(['api', 'exports']);
    expect(heard).toEqual(['cus_grant']);
  });

  test('when the plan changes up and then down, then each change is in the audit log and entitlements follow', async () => {
    await deliverTwiceAndWait(service, stripeEvent('customer.subscription.created', subscription('cus_plan', 'price_pro_m'), { created: at(-30) }));
    await deliverTwiceAndWait(service, stripeEvent('customer.subscription.updated', subscription('cus_plan', 'price_team'), { created: at(-20) }));
    expect(active(await customer('cus_plan'))).toEqual(['api', 'exports', 'sso']);

    await deliverTwiceAndWait(service, stripeEvent('customer.subscription.updated', subscription('cus_plan', 'price_pro_y'), { created: at(-10) }));

    const view = await customer('cus_plan');
    expect(active(view)).toEqual(['api', 'exports']);
    expect(view.audit_log.filter((a: any) => !a.change.startsWith('status')).map((a: any) => [a.change, a.from_value, a.to_value])).toEqual([
      ['upgrade', 'pro', 'team'],
      ['downgrade', 'team', 'pro'],
    ]);
  });

  test('when an updated event (newer) arrives before the created one (older), then the newer state stays', async () => {
    await deliverTwiceAndWait(service, stripeEvent('customer.subscription.updated', subscription('cus_order', 'price_team', 'active'), { created: at(-10) }));
    await deliverTwiceAndWait(service, stripeEvent('customer.subscription.created', subscription('cus_order', 'price_pro_m', 'incomplete'), { created: at(-20) }));

    const view = await customer('cus_order');
    expect(view.subscriptions).toMatchObject([{ status: 'active', tier: 'team' }]);
    expect(active(view)).toEqual(['api', 'exports', 'sso']);
  });

  test('when the first two events of new subscriptions arrive at the same moment, then the newer state wins every time', async () => {
    const customers = Array.from({ length: 12 }, (_, i) => `cus_race_${i}`);

    await Promise.all(
      customers.flatMap((id) => [
        deliverTwiceAndWait(service, stripeEvent('customer.subscription.created', subscription(id, 'price_pro_m', 'incomplete'), { created: at(-20) })),
        deliverTwiceAndWait(service, stripeEvent('customer.subscription.updated', subscription(id, 'price_team', 'active'), { created: at(-10) })),
      ]),
    );
    const views = await Promise.all(customers.map(customer));

    expect(views.map((view) => view.subscriptions[0].status)).toEqual(customers.map(() => 'active'));
    expect(views.map((view) => view.subscriptions[0].tier)).toEqual(customers.map(() => 'team'));
  });

  test('when a subscription is deleted and a late updated event arrives, then it stays deleted and access is revoked', async () => {
    await deliverTwiceAndWait(service, stripeEvent('customer.subscription.created', subscription('cus_gone', 'price_pro_m'), { created: at(-30) }));
    await deliverTwiceAndWait(service, stripeEvent('customer.subscription.deleted', subscription('cus_gone', 'price_pro_m', 'canceled'), { created: at(-10) }));
    await deliverTwiceAndWait(service, stripeEvent('customer.subscription.updated', subscription('cus_gone', 'price_pro_m', 'active'), { created: at(-20) }));

    const view = await customer('cus_gone');
    expect(view.subscriptions).toMatchObject([{ status: 'canceled' }]);
    expect(active(view)).toEqual([]);
  });

  test('when a late payment failure of a canceled subscription arrives, then the subscription stays canceled', async () => {
    const canceled = subscription('cus_late_failure', 'price_pro_m', 'canceled');
    canceled.canceled_at = at(-5);
    await deliverTwiceAndWait(service, stripeEvent('customer.subscription.deleted', canceled, { created: at(-5) }));
    const base = paidInvoice({ status: 'open', customerEmail: null });
    const invoice = { ...base, customer: 'cus_late_failure', parent: { ...base.parent, subscription_details: { subscription: canceled.id } } };

    await deliverTwiceAndWait(service, stripeEvent('invoice.payment_failed', invoice, { created: at(-30) }));

    const view = await customer('cus_late_failure');
    expect(view.subscriptions).toMatchObject([{ status: 'canceled' }]);
    expect(active(view)).toEqual([]);
  });

  test('when a subscription is paused and resumed, then access stops and comes back', async () => {
    await deliverTwiceAndWait(service, stripeEvent('customer.subscription.created', subscription('cus_pause', 'price_pro_m'), { created: at(-30) }));
    await deliverTwiceAndWait(service, stripeEvent('customer.subscription.paused', subscription('cus_pause', 'price_pro_m', 'paused'), { created: at(-20) }));
    const paused = active(await customer('cus_pause'));

    await deliverTwiceAndWait(service, stripeEvent('customer.subscription.resumed', subscription('cus_pause', 'price_pro_m', 'active'), { created: at(-10) }));

    expect(paused).toEqual([]);
    expect(active(await customer('cus_pause'))).toEqual(['api', 'exports']);
  });

  test('when a Connect event changes a customer and a subscription, then the account is stored with both', async () => {
    await deliverTwiceAndWait(
      service,
      stripeEvent('customer.created', stripeObject('customer', { id: 'cus_connect' }), { account: 'acct_test_platform' }),
    );
    await deliverTwiceAndWait(
      service,
      stripeEvent('customer.subscription.created', subscription('cus_connect', 'price_pro_m'), { account: 'acct_test_platform' }),
    );

    const { rows } = await service.database.db.query(
      `SELECT (SELECT account FROM customers WHERE id = 'cus_connect') AS customer,
              (SELECT account FROM subscriptions WHERE id = 'sub_test_cus_connect') AS subscription,
              (SELECT count(*)::int FROM stripe_events WHERE account = 'acct_test_platform') AS events`,
    );
    expect(rows).toEqual([{ customer: 'acct_test_platform', subscription: 'acct_test_platform', events: 2 }]);
  });

  test.each(['old', 'new'] as const)('when the period is in the %s API version shape, then it is read', async (shape) => {
    const object = subscription(`cus_period_${shape}`, 'price_pro_m', 'active', shape);

    await deliverTwiceAndWait(service, stripeEvent('customer.subscription.created', object));

    const { rows } = await service.database.db.query(
      'SELECT extract(epoch FROM current_period_end)::int AS end FROM subscriptions WHERE id = $1',
      [object.id],
    );
    expect(rows).toEqual([{ end: shape === 'new' ? object.items.data[0].current_period_end : object.current_period_end }]);
  });
});
