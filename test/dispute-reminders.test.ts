import { WorkflowNotFoundError } from '@temporalio/client';
import { capturedCharge, disputeWithFunds, invoicePayment, paidInvoice } from './support/billing-events';
import { deliverTwiceAndWait, startTestService, type TestService } from './support/service';
import { stripeEvent } from './support/stripe-events';

/**
 * A dispute unanswered by its due date is lost: finance is reminded of each one still waiting
 * for an answer `DISPUTE_REMINDER_LEAD` before that date, by a durable timer (one workflow per
 * dispute), and not when it was answered or closed by then.
 */

let service: TestService;

beforeAll(async () => {
  service = await startTestService({ overrides: { FINANCE_EMAIL: 'disputes@example.com', DISPUTE_REMINDER_LEAD: '10s' } });
});

afterAll(async () => {
  await service?.stop();
});

let sequence = 0;
/** A dispute of a new charge whose answer is due `seconds` from now. */
function disputeDueIn(seconds: number, status = 'needs_response'): Record<string, any> {
  sequence += 1;
  return {
    ...disputeWithFunds(`dp_test_reminder_${Date.now()}_${sequence}`, 2_500, status, []),
    charge: capturedCharge({ amount: 2_500, invoice: null }).id,
    reason: 'fraudulent',
    evidence_details: { due_by: Math.floor(Date.now() / 1000) + seconds, has_evidence: false, past_due: false, submission_count: 0 },
  };
}

const remindersOf = (dispute: Record<string, any>) => service.smtp.to('disputes@example.com').filter((mail) => mail.subject?.includes('still unanswered') && mail.text?.includes(dispute.id));
const reminderResult = (dispute: Record<string, any>) => service.temporal.workflow.getHandle(`dispute-reminder-${dispute.id}`).result();

test('when a dispute is still unanswered as its due date nears, then finance is reminded once, however many of its events arrive', async () => {
  const dispute = disputeDueIn(12);

  await Promise.all([
    deliverTwiceAndWait(service, stripeEvent('charge.dispute.created', dispute)),
    deliverTwiceAndWait(service, stripeEvent('charge.dispute.funds_withdrawn', dispute)),
  ]);
  await deliverTwiceAndWait(service, stripeEvent('charge.dispute.updated', dispute));

  expect(await reminderResult(dispute)).toEqual({ reminded: true, status: 'needs_response' });
  const reminders = remindersOf(dispute);
  expect(reminders.map((mail) => mail.subject)).toEqual([`Dispute still unanswered: $25.00 on charge ${dispute.charge}, answer by ${new Date(dispute.evidence_details.due_by * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`]);
  expect(reminders[0].text).toContain(`https://dashboard.stripe.com/test/disputes/${dispute.id}`);
});

test('when evidence is submitted before the reminder is due, then the reminder ends at once and sends nothing', async () => {
  // Due in five minutes: its reminder would wait longer than the test may take.
  const dispute = disputeDueIn(300);

  await deliverTwiceAndWait(service, stripeEvent('charge.dispute.created', dispute));
  await deliverTwiceAndWait(service, stripeEvent('charge.dispute.updated', { ...dispute, status: 'under_review' }, { created: Math.floor(Date.now() / 1000) + 1 }));

  expect(await reminderResult(dispute)).toEqual({ reminded: false, status: 'under_review' });
  expect(remindersOf(dispute)).toEqual([]);
});

test('when a dispute\'s answer arrives before its older opening event, then no reminder is started', async () => {
  const dispute = disputeDueIn(300);
  const now = Math.floor(Date.now() / 1000);

  await deliverTwiceAndWait(service, stripeEvent('charge.dispute.updated', { ...dispute, status: 'under_review' }, { created: now }));
  await deliverTwiceAndWait(service, stripeEvent('charge.dispute.created', dispute, { created: now - 60 }));

  await expect(service.temporal.workflow.getHandle(`dispute-reminder-${dispute.id}`).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
});

test('when a dispute is due sooner than the lead at its first event (an inquiry), then finance is reminded halfway to its due date', async () => {
  const inquiry = disputeDueIn(5, 'warning_needs_response');

  await deliverTwiceAndWait(service, stripeEvent('charge.dispute.created', inquiry));

  expect(remindersOf(inquiry)).toEqual([]);
  expect(await reminderResult(inquiry)).toEqual({ reminded: true, status: 'warning_needs_response' });
  expect(remindersOf(inquiry).map((mail) => mail.subject?.split(':')[0])).toEqual(['Inquiry still unanswered']);
});

test.each([
  ['closed', 'charge.dispute.closed', { ...disputeDueIn(60), status: 'lost' }],
  ['past its due date (an answer can no longer be given)', 'charge.dispute.updated', disputeDueIn(-60)],
])('when a dispute\'s first event says it is %s, then no reminder is started', async (_, type, dispute: Record<string, any>) => {
  await deliverTwiceAndWait(service, stripeEvent(type, dispute));

  await expect(service.temporal.workflow.getHandle(`dispute-reminder-${dispute.id}`).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
});

test('when the disputed charge is not stored but its payment intent paid an invoice (newer API versions, no key), then the reminder names that invoice', async () => {
  const { payments: _left_out, ...invoice } = paidInvoice({ subtotal: 2_500 });
  const paymentIntentId = `pi_test_reminder_${Date.now()}`;
  await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice));
  await deliverTwiceAndWait(service, stripeEvent('invoice_payment.paid', invoicePayment({ invoiceId: invoice.id, paymentIntentId, amount: 2_500 })));
  const dispute = { ...disputeDueIn(12), payment_intent: paymentIntentId };

  await deliverTwiceAndWait(service, stripeEvent('charge.dispute.created', dispute));

  expect(await reminderResult(dispute)).toEqual({ reminded: true, status: 'needs_response' });
  expect(remindersOf(dispute)[0].text).toContain(`Invoice: ${invoice.id}`);
});
