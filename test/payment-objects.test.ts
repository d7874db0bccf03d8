import { deliverTwiceAndWait, startTestService, type TestService } from './support/service';
import { stripeEvent, stripeObject } from './support/stripe-events';

let service: TestService;

beforeAll(async () => {
  service = await startTestService();
  await deliverTwiceAndWait(service, stripeEvent('customer.created', stripeObject('customer', { id: 'cus_pay' })));
});

afterAll(async () => {
  await service?.stop();
});

async function row(table: string, id: string) {
  const { rows } = await service.database.db.query(`SELECT * FROM ${table} WHERE id = $1`, [id]);
  return rows[0];
}

const at = (offsetSeconds: number) => Math.floor(Date.now() / 1000) + offsetSeconds;
const card = (overrides: Record<string, unknown>) =>
  stripeObject('payment_method', { id: 'pm_test_1', customer: 'cus_pay', ...overrides });

describe('payment methods', () => {
  test('when a payment method is attached, then it is stored with its card summary', async () => {
    await deliverTwiceAndWait(service, stripeEvent('payment_method.attached', card({}), { created: at(-50) }));

    expect(await row('payment_methods', 'pm_test_1')).toMatchObject({ customer_id: 'cus_pay', type: 'card', detached: false });
  });

  test.each(['payment_method.updated', 'payment_method.automatically_updated'])('when %s arrives, then the new expiry is kept', async (type) => {
    const object = card({});
    object.card = { ...object.card, exp_month: 9, exp_year: type.includes('automatically') ? 2031 : 2030 };

    await deliverTwiceAndWait(service, stripeEvent(type, object, { created: at(type.includes('automatically') ? -30 : -40) }));

    expect(await row('payment_methods', 'pm_test_1')).toMatchObject({ exp_month: 9, exp_year: type.includes('automatically') ? 2031 : 2030 });
  });

  test('when a setup intent succeeds, then its payment method becomes the default; created and failed ones are recorded', async () => {
    const intent = (status: string, overrides: Record<string, unknown> = {}) =>
      stripeObject('setup_intent', { id: 'seti_test_1', customer: 'cus_pay', payment_method: 'pm_test_1', status, ...overrides });

    await deliverTwiceAndWait(service, stripeEvent('setup_intent.created', intent('requires_payment_method'), { created: at(-28) }));
    await deliverTwiceAndWait(
      service,
      stripeEvent('setup_intent.setup_failed', intent('requires_payment_method', { last_setup_error: { message: 'Your card was declined.' } }), { created: at(-27) }),
    );
    expect(await row('setup_intents', 'seti_test_1')).toMatchObject({ status: 'requires_payment_method', last_error: 'Your card was declined.' });
    await deliverTwiceAndWait(service, stripeEvent('setup_intent.succeeded', intent('succeeded'), { created: at(-26) }));

    expect(await row('customers', 'cus_pay')).toMatchObject({ default_payment_method: 'pm_test_1' });
  });

  test('when a card source is updated, then it is stored', async () => {
    const source = stripeObject('card', { id: 'card_test_src', customer: 'cus_pay', last4: '1881', exp_month: 3, exp_year: 2029 });

    await deliverTwiceAndWait(service, stripeEvent('customer.source.updated', source));

    expect(await row('payment_methods', 'card_test_src')).toMatchObject({ customer_id: 'cus_pay', last4: '1881', exp_year: 2029 });
  });

  test('when the payment method is detached, then it is marked detached, keeps its customer and stops being the default', async () => {
    await deliverTwiceAndWait(service, stripeEvent('payment_method.detached', card({ customer: null }), { created: at(-20) }));

    expect(await row('payment_methods', 'pm_test_1')).toMatchObject({ customer_id: 'cus_pay', detached: true });
    expect(await row('customers', 'cus_pay')).toMatchObject({ default_payment_method: null });
  });

  test('when an older update arrives after the detachment, then the payment method stays detached', async () => {
    await deliverTwiceAndWait(service, stripeEvent('payment_method.updated', card({}), { created: at(-45) }));

    expect(await row('payment_methods', 'pm_test_1')).toMatchObject({ detached: true });
  });
});

describe('payments outside invoices', () => {
  test.each([
    ['payment_intent.created', 'requires_payment_method', -10],
    ['payment_intent.payment_failed', 'requires_payment_method', -9],
    ['payment_intent.succeeded', 'succeeded', -8],
  ])('when %s arrives, then the payment intent shows %s', async (type, status, offset) => {
    const intent = stripeObject('payment_intent', {
      id: 'pi_test_outside',
      customer: 'cus_pay',
      amount: 4200,
      currency: 'eur',
      status,
      last_payment_error: type === 'payment_intent.payment_failed' ? { message: 'Insufficient funds.' } : null,
    });

    await deliverTwiceAndWait(service, stripeEvent(type, intent, { created: at(offset) }));

    expect(await row('payment_intents', 'pi_test_outside')).toMatchObject({
      status,
      amount: '4200',
      currency: 'eur',
      last_error: type === 'payment_intent.payment_failed' ? 'Insufficient funds.' : null,
    });
  });

  test.each([
    ['charge.failed', 'failed', 'Your card was declined.'],
    ['charge.succeeded', 'succeeded', null],
  ])('when %s arrives, then the charge is stored as %s', async (type, status, failure) => {
    const charge = stripeObject('charge', { id: `ch_test_${status}`, customer: 'cus_pay', amount: 1500, status, failure_message: failure });

    await deliverTwiceAndWait(service, stripeEvent(type, charge, { account: 'acct_test_connected' }));

    expect(await row('charges', `ch_test_${status}`)).toMatchObject({
      status,
      amount: '1500',
      failure_message: failure,
      account: 'acct_test_connected',
    });
  });
});

describe('invoices beyond payment', () => {
  test.each([
    ['invoice.created', 'draft', -5],
    ['invoice.updated', 'draft', -4],
    ['invoice.finalized', 'open', -3],
  ])('when %s arrives, then the invoice is stored as %s', async (type, status, offset) => {
    // The sample's amount_overpaid is more than its amount_paid, which Stripe never sends.
    const invoice = stripeObject('invoice', { id: 'in_test_lifecycle', status, number: status === 'open' ? 'ACME-0042' : null, amount_overpaid: 0 });

    await deliverTwiceAndWait(service, stripeEvent(type, invoice, { created: at(offset) }));

    expect(await row('invoices', 'in_test_lifecycle')).toMatchObject({ status, total: '1000', currency: 'usd' });
  });
});
