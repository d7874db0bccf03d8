import { WorkflowType, type ProcessStripeEventInput } from '../workflows/contracts';
import { insertEvent } from '../src/store/events';
import { chargeWithRefunds, disputeWithFunds, paidInvoice } from './support/billing-events';
import { movements } from './support/ledger';
import { deliverTwiceAndWait, eventStatusWhenDone, historyOf, isPatchMarker, localActivitiesOf as localActivitiesOfRun, startTestService, type TestService } from './support/service';
import { deliver, stripeEvent } from './support/stripe-events';
import type { StripeEvent } from '../src/platform/stripe-event';

/**
 * Runs started by this code carry the handler generation and take the newest handlers without
 * patch markers (each of which also upserts a search attribute: a visibility write per event);
 * runs started without one, by the code before it, still ask their patches. Generation 3 runs
 * each stretch of database steps, with the event's bookkeeping, as one local activity.
 */

let service: TestService;

beforeAll(async () => {
  service = await startTestService();
});

afterAll(async () => {
  await service?.stop();
});

/** Stores the event and starts its run with the input an earlier release gave it; the event's status once done. */
async function startAsEarlierCode(event: StripeEvent, input: ProcessStripeEventInput): Promise<string> {
  await insertEvent(service.database.db, event);
  await service.temporal.workflow.start(WorkflowType.processStripeEvent, { workflowId: event.id, taskQueue: service.config.TEMPORAL_TASK_QUEUE, args: [input] });
  return eventStatusWhenDone(service, event.id);
}

const localActivitiesOf = (eventId: string) => localActivitiesOfRun(service, eventId);

test('when a paid invoice is delivered, then its whole run is one workflow task of one local activity without patch markers, and every effect happens once', async () => {
  const event = stripeEvent('invoice.paid', paidInvoice({ customerEmail: 'generation@example.com' }));

  await deliverTwiceAndWait(service, event);

  const history = await historyOf(service, event.id);
  expect(history.filter(isPatchMarker)).toEqual([]);
  expect(history.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes)).toEqual([]);
  // Every step local, the email's first attempt too: no activity task, no second workflow task.
  expect(history.filter((e) => e.activityTaskScheduledEventAttributes)).toEqual([]);
  expect(history.filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(1);
  // Marking it processing, the payment's steps, the email and marking it processed: one local activity.
  expect(await localActivitiesOf(event.id)).toEqual(['runEventSteps']);
  const { rows } = await service.database.db.query('SELECT count(*)::int AS n FROM payments WHERE source_event_id = $1', [event.id]);
  expect(rows[0].n).toBe(1);
  expect(service.smtp.to('generation@example.com')).toHaveLength(1);
});

test('when a run of generation 3 is started, as the code of the evening of 2026-12-04 started it, then its email is a local activity between two of its database steps', async () => {
  const event = stripeEvent('invoice.paid', paidInvoice({ customerEmail: 'generation-3@example.com' }));

  const status = await startAsEarlierCode(event, { eventId: event.id, type: event.type, generation: 3 });

  expect(status).toBe('processed');
  expect(await localActivitiesOf(event.id)).toEqual(['runEventSteps', 'emailPaymentDocuments', 'runEventSteps']);
  expect(service.smtp.to('generation-3@example.com')).toHaveLength(1);
});

test('when an event without email is delivered, then its bookkeeping and all its database steps are one local activity, and every effect happens once', async () => {
  const charge = chargeWithRefunds('ch_generation_3', 9_000, [{ id: 're_generation_3', amount: 2_500 }]);
  const event = stripeEvent('charge.refunded', charge);

  await deliverTwiceAndWait(service, event);

  expect(await localActivitiesOf(event.id)).toEqual(['runEventSteps']);
  const { rows } = await service.database.db.query("SELECT count(*)::int AS n FROM ledger_entries WHERE source_key = 'refund:re_generation_3'");
  expect(rows[0].n).toBe(1);
  const stored = await service.database.db.query('SELECT count(*)::int AS n FROM charges WHERE id = $1', [charge.id]);
  expect(stored.rows[0].n).toBe(1);
});

test('when an event of a type nothing handles is delivered, then one local activity marks it ignored', async () => {
  const event = stripeEvent('plan.created', { object: 'plan', id: 'plan_generation_3' });

  const answers = await Promise.all([deliver(service.url, event), deliver(service.url, event)]);

  expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
  expect(await eventStatusWhenDone(service, event.id)).toBe('ignored');
  expect(await localActivitiesOf(event.id)).toEqual(['runEventSteps']);
});

test('when a dispute\'s run of generation 4 is started, as the code before dispute alerts started it, then it books the dispute as it did and emails no one, while generation 5 also tells finance', async () => {
  const finance = () => service.smtp.messages.filter((mail) => mail.subject?.includes('ch_test_generations')).length;
  const older = stripeEvent('charge.dispute.created', { ...disputeWithFunds('dp_test_generation_4', 700, 'needs_response', [-700]), charge: 'ch_test_generations' });
  const newer = stripeEvent('charge.dispute.created', { ...disputeWithFunds('dp_test_generation_5', 800, 'needs_response', [-800]), charge: 'ch_test_generations' });

  expect(await startAsEarlierCode(older, { eventId: older.id, type: older.type, generation: 4 })).toBe('processed');
  expect(finance()).toBe(0);
  await deliverTwiceAndWait(service, newer);

  expect(await movements(service, 'dp_test_generation_4')).toEqual({ dispute_losses: 700, stripe_balance: -700 });
  expect(await localActivitiesOf(older.id)).toEqual(['runEventSteps']);
  expect(finance()).toBe(1);
});

test('when a run of generation 2 is started, as the code of 2026-12-04 started it, then each of its steps is a local activity of its own', async () => {
  const event = stripeEvent('invoice.paid', paidInvoice({ customerEmail: 'generation-2@example.com' }));

  const status = await startAsEarlierCode(event, { eventId: event.id, type: event.type, generation: 2 });

  expect(status).toBe('processed');
  expect(await localActivitiesOf(event.id)).toEqual(['markEventProcessing', 'recordInvoicePaid', 'emailPaymentDocuments', 'markEventFinished']);
  expect(service.smtp.to('generation-2@example.com')).toHaveLength(1);
});

test('when a run of generation 1 is started, as the code of 2026-12-02 started it, then it emails from a regular activity and asks no patch', async () => {
  const event = stripeEvent('invoice.paid', paidInvoice({ customerEmail: 'generation-1@example.com' }));

  const status = await startAsEarlierCode(event, { eventId: event.id, type: event.type, generation: 1 });

  expect(status).toBe('processed');
  const history = await historyOf(service, event.id);
  expect(history.filter(isPatchMarker)).toEqual([]);
  expect(history.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? [])).toEqual(['emailPaymentDocuments']);
  expect(history.filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(2);
  expect(service.smtp.to('generation-1@example.com')).toHaveLength(1);
});

test('when a run is started without a generation, as the code before generations started it, then it asks its patch and processes the event', async () => {
  const event = stripeEvent('invoice.paid', paidInvoice({ customerEmail: 'before-generation@example.com' }));

  const status = await startAsEarlierCode(event, { eventId: event.id, type: event.type });

  expect(status).toBe('processed');
  const markers = (await historyOf(service, event.id)).filter(isPatchMarker);
  expect(markers).toHaveLength(1);
  const patch = markers[0].markerRecordedEventAttributes!.details!['patch-data'].payloads![0].data!;
  expect(JSON.parse(Buffer.from(patch).toString())).toMatchObject({ id: 'database-steps-as-local-activities' });
  expect(service.smtp.to('before-generation@example.com')).toHaveLength(1);
});
