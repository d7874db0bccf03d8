import { capturedCharge, chargeWithRefunds, disputeWithFunds, earlyFraudWarning, invoicePayment, paidInvoice } from './support/billing-events';
import { movements } from './support/ledger';
import { admin, deliverTwiceAndWait, eventStatusWhenDone, startTestService, type TestService } from './support/service';
import { deliver, stripeEvent } from './support/stripe-events';

/**
 * What finance must hear of at once about a charge, once each, with what the books know of it:
 * Radar's early fraud warnings it can still act on, and disputes as they open and as they end.
 */

let service: TestService;

beforeAll(async () => {
  service = await startTestService({ overrides: { FINANCE_EMAIL: 'fraud-desk@example.com' } });
});

afterAll(async () => {
  await service?.stop();
});

/** Event times, in Unix seconds, of events that happened before (or after) the others. */
const aMinuteAgo = () => Math.floor(Date.now() / 1000) - 60;
const aSecondFromNow = () => Math.floor(Date.now() / 1000) + 1;

const warningsAbout = (chargeId: string) => service.smtp.to('fraud-desk@example.com').filter((mail) => mail.subject?.includes(chargeId));

/** A charge that paid an invoice, as the books have it. */
async function paidCharge(amount: number): Promise<{ charge: Record<string, any>; invoice: Record<string, any> }> {
  const charge: Record<string, any> = { ...capturedCharge({ amount, invoice: null }), customer: 'cus_test_paying' };
  const invoice = paidInvoice({ subtotal: amount, chargeId: charge.id });
  await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice));
  await deliverTwiceAndWait(service, stripeEvent('charge.succeeded', { ...charge, invoice: invoice.id }));
  return { charge, invoice };
}

test('when a paid invoice\'s charge gets an early fraud warning, then finance gets one email naming the charge, its amount, customer and invoice, and the event is found with the customer\'s', async () => {
  const { charge, invoice } = await paidCharge(4_900);
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

test('when a warning is about the charge of a part of an invoice whose payments name only payment intents, then finance\'s email names that invoice', async () => {
  const paid: Record<string, any> = paidInvoice({ subtotal: 2_000 });
  // As Stripe lists a part paid by a payment intent: the intent, no charge.
  const part = (n: number) => invoicePayment({ invoiceId: paid.id, paymentIntentId: `pi_alert_part_${paid.id}_${n}`, amount: 1_000 });
  const invoice = { ...paid, payments: { ...paid.payments, data: [part(1), part(2)] } };
  await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice));
  const chargeId = `ch_alert_part_${paid.id}`;
  const warning = stripeEvent('radar.early_fraud_warning.created', { ...earlyFraudWarning(chargeId), payment_intent: `pi_alert_part_${paid.id}_2` });

  await deliverTwiceAndWait(service, warning);

  const mails = warningsAbout(chargeId);
  expect(mails).toHaveLength(1);
  expect(mails[0].text).toContain(`Invoice: ${paid.id}`);
  expect(mails[0].text).toContain(`https://dashboard.stripe.com/test/payments/pi_alert_part_${paid.id}_2`);
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

/** The paid charge as `charge.refunded` reports it after refunds of these amounts. */
function refundedCharge(charge: Record<string, any>, invoiceId: string, amounts: number[]): Record<string, any> {
  const { refunded, amount_refunded, refunds } = chargeWithRefunds(charge.id, charge.amount, amounts.map((amount, n) => ({ id: `re_${charge.id}_${n}`, amount })));
  return { ...charge, invoice: invoiceId, refunded, amount_refunded, refunds };
}

const fraudWarningsAbout = (chargeId: string) => warningsAbout(chargeId).filter((mail) => mail.subject?.startsWith('Early fraud warning'));

test('when a warning is delivered after the books saw its charge refunded in full, then nothing is sent and the event is processed', async () => {
  const { charge, invoice } = await paidCharge(2_500);
  const warning = stripeEvent('radar.early_fraud_warning.created', earlyFraudWarning(charge.id), { created: aMinuteAgo() });
  // A second after the charge's own event: within one second the stored charge is either.
  await deliverTwiceAndWait(service, stripeEvent('charge.refunded', refundedCharge(charge, invoice.id, [1_000, 1_500]), { created: aSecondFromNow() }));

  await deliverTwiceAndWait(service, warning);

  expect(fraudWarningsAbout(charge.id)).toEqual([]);
});

test('when a warning is delivered after a charge captured in part was refunded in full, then nothing is sent', async () => {
  const charge: Record<string, any> = { ...capturedCharge({ amount: 3_000, captured: 2_000, invoice: null }), customer: 'cus_test_partly_captured' };
  await deliverTwiceAndWait(service, stripeEvent('charge.captured', charge, { created: aMinuteAgo() }));
  // Stripe's word that it is refunded in full: what was refunded is what was captured, less than the amount authorized.
  const { refunds } = chargeWithRefunds(charge.id, 2_000, [{ id: `re_${charge.id}`, amount: 2_000 }]);
  await deliverTwiceAndWait(service, stripeEvent('charge.refunded', { ...charge, refunded: true, amount_refunded: 2_000, refunds }));

  await deliverTwiceAndWait(service, stripeEvent('radar.early_fraud_warning.created', earlyFraudWarning(charge.id), { created: aMinuteAgo() }));

  expect(fraudWarningsAbout(charge.id)).toEqual([]);
});

test('when a warning is delivered after its charge was refunded only in part, then finance is still told, once', async () => {
  const { charge, invoice } = await paidCharge(2_500);
  await deliverTwiceAndWait(service, stripeEvent('charge.refunded', refundedCharge(charge, invoice.id, [1_000])));

  await deliverTwiceAndWait(service, stripeEvent('radar.early_fraud_warning.created', earlyFraudWarning(charge.id)));

  expect(fraudWarningsAbout(charge.id)).toHaveLength(1);
});

test('when a warning names no charge, then the event fails saying so and nothing is sent', async () => {
  const warning = stripeEvent('radar.early_fraud_warning.created', { ...earlyFraudWarning('ch_unused'), charge: null });

  await deliver(service.url, warning);

  expect(await eventStatusWhenDone(service, warning.id)).toBe('failed');
  const { body } = await admin(service, `/events/${warning.id}`);
  expect(body.last_error).toContain('not an early fraud warning about a charge');
});

describe('disputes', () => {
  const disputeOf = (chargeId: string, status: string, movements: number[]): Record<string, any> => ({
    ...disputeWithFunds(`dp_test_alert_${Date.now()}`, 3_000, status, movements),
    charge: chargeId,
    reason: 'product_not_received',
    evidence_details: { due_by: Date.UTC(2026, 11, 20, 23, 59, 59) / 1000, has_evidence: false, past_due: false, submission_count: 0 },
  });

  test('when a paid invoice\'s charge is disputed and the dispute is lost, then finance gets one email when it opens, with the date its answer is due, and one when it ends, and the books take the funds as before', async () => {
    const { charge, invoice } = await paidCharge(3_000);
    const opened = disputeOf(charge.id, 'needs_response', [-3_000]);

    await deliverTwiceAndWait(service, stripeEvent('charge.dispute.created', opened));
    await deliverTwiceAndWait(service, stripeEvent('charge.dispute.closed', { ...opened, status: 'lost' }));

    const mails = warningsAbout(charge.id);
    expect(mails.map((mail) => mail.subject)).toEqual([
      `Dispute opened: $30.00 on charge ${charge.id}, answer by 2026-12-20 23:59 UTC`,
      `Dispute lost: $30.00 on charge ${charge.id}`,
    ]);
    expect(mails[0].text).toContain('Reason: product not received');
    expect(mails[0].text).toContain(`Invoice: ${invoice.id}`);
    expect(mails[0].text).toContain(`https://dashboard.stripe.com/test/disputes/${opened.id}`);
    expect(mails[1].text).toContain('lost: the funds stay with the customer');
    expect(await movements(service, opened.id)).toEqual({ dispute_losses: 3_000, stripe_balance: -3_000 });
  });

  /** A paid charge's dispute whose newer event (`type`, with `status`) was processed first; then its opening, a minute older, is delivered. */
  async function openingDeliveredAfter(type: string, status: string) {
    const { charge } = await paidCharge(3_000);
    const opened = disputeOf(charge.id, 'needs_response', [-3_000]);
    await deliverTwiceAndWait(service, stripeEvent(type, { ...opened, status }));

    await deliverTwiceAndWait(service, stripeEvent('charge.dispute.created', opened, { created: aMinuteAgo() }));
    return { charge, opened };
  }

  test('when a dispute\'s opening is delivered after its end, then finance gets only the email of how it ended, and the books take the funds once', async () => {
    const { charge, opened } = await openingDeliveredAfter('charge.dispute.closed', 'lost');

    expect(warningsAbout(charge.id).map((mail) => mail.subject)).toEqual([`Dispute lost: $30.00 on charge ${charge.id}`]);
    expect(await movements(service, opened.id)).toEqual({ dispute_losses: 3_000, stripe_balance: -3_000 });
  });

  test('when a dispute\'s opening is delivered after a newer event said it was answered, then finance is still told it opened', async () => {
    const { charge } = await openingDeliveredAfter('charge.dispute.updated', 'under_review');

    expect(warningsAbout(charge.id).map((mail) => mail.subject)).toEqual([`Dispute opened: $30.00 on charge ${charge.id}, answer by 2026-12-20 23:59 UTC`]);
  });

  test('when an early fraud warning is delivered after its charge was disputed, then finance hears of the dispute only', async () => {
    const { charge } = await paidCharge(3_000);
    const warning = stripeEvent('radar.early_fraud_warning.created', earlyFraudWarning(charge.id), { created: aMinuteAgo() });
    await deliverTwiceAndWait(service, stripeEvent('charge.dispute.created', disputeOf(charge.id, 'needs_response', [-3_000])));

    await deliverTwiceAndWait(service, warning);

    expect(warningsAbout(charge.id).map((mail) => mail.subject)).toEqual([`Dispute opened: $30.00 on charge ${charge.id}, answer by 2026-12-20 23:59 UTC`]);
  });

  test('when the bank only asks about a charge (an inquiry), then finance is told that no funds were taken yet', async () => {
    const { charge } = await paidCharge(1_500);

    await deliverTwiceAndWait(service, stripeEvent('charge.dispute.created', disputeOf(charge.id, 'warning_needs_response', [])));

    const mails = warningsAbout(charge.id);
    expect(mails.map((mail) => mail.subject)).toEqual([`Inquiry opened: $30.00 on charge ${charge.id}, answer by 2026-12-20 23:59 UTC`]);
    expect(mails[0].text).toContain('No funds were taken yet');
  });
});
