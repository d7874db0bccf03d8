import { capturedCharge, earlyFraudWarning, paidInvoice } from './support/billing-events';
import { admin, deliverTwiceAndWait, eventStatusWhenDone, startTestService, type TestService } from './support/service';
import { deliver, stripeEvent } from './support/stripe-events';

/**
 * Radar's early fraud warnings: finance hears of each one it can still act on, once, with what
 * the books know of the charge.
 */

let service: TestService;

beforeAll(async () => {
  service = await startTestService({ overrides: { FINANCE_EMAIL: 'fraud-desk@example.com' } });
});

afterAll(async () => {
  await service?.stop();
});

const warningsAbout = (chargeId: string) => service.smtp.to('fraud-desk@example.com').filter((mail) => mail.subject?.includes(chargeId));

test('when a paid invoice\'s charge gets an early fraud warning, then finance gets one email naming the charge, its amount, customer and invoice, and the event is found with the customer\'s', async () => {
  const charge: Record<string, any> = { ...capturedCharge({ amount: 4_900, invoice: null }), customer: 'cus_test_paying' };
  const invoice = paidInvoice({ subtotal: 4_900, chargeId: charge.id });
  await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice));
  await deliverTwiceAndWait(service, stripeEvent('charge.succeeded', { ...charge, invoice: invoice.id }));
  const warning = stripeEvent('radar.early_fraud_warning.created', earlyFraudWarning(charge.id, { fraudType: 'made_with_stolen_card' }));

  await deliverTwiceAndWait(service, warning);

  const mails = warningsAbout(charge.id);
  expect(mails.map((mail) => mail.subject)).toEqual([`Early fraud warning: charge ${charge.id}, $49.00`]);
  expect(mails[0].text).toContain('made with stolen card');
  expect(mails[0].text).toContain('Customer: cus_test_paying');
  expect(mails[0].text).toContain(`Invoice: ${invoice.id}`);
  expect(mails[0].text).toContain(`https://dashboard.stripe.com/test/payments/${charge.payment_intent}`);
  const { body } = await admin(service, `/events/${warning.id}`);
  expect([body.status, body.customer_id, body.invoice_id]).toEqual(['processed', 'cus_test_paying', invoice.id]);
});

test('when a warning arrives about a charge the books never saw, then finance is still told, with what is unknown said so', async () => {
  const warning = stripeEvent('radar.early_fraud_warning.created', earlyFraudWarning('ch_test_before_our_time'));

  await deliverTwiceAndWait(service, warning);

  const mails = warningsAbout('ch_test_before_our_time');
  expect(mails).toHaveLength(1);
  expect(mails[0].text).toContain('Amount: not in our records');
});

test('when a warning is no longer actionable (the charge was refunded or disputed), then nothing is sent and the event is processed', async () => {
  const warning = stripeEvent('radar.early_fraud_warning.created', earlyFraudWarning('ch_test_already_refunded', { actionable: false }));

  await deliverTwiceAndWait(service, warning);

  expect(await eventStatusWhenDone(service, warning.id)).toBe('processed');
  expect(warningsAbout('ch_test_already_refunded')).toEqual([]);
});

test('when a warning names no charge, then the event fails saying so and nothing is sent', async () => {
  const warning = stripeEvent('radar.early_fraud_warning.created', { ...earlyFraudWarning('ch_unused'), charge: null });

  await deliver(service.url, warning);

  expect(await eventStatusWhenDone(service, warning.id)).toBe('failed');
  const { body } = await admin(service, `/events/${warning.id}`);
  expect(body.last_error).toContain('not an early fraud warning about a charge');
});
