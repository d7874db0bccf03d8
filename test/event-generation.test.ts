import { WorkflowType, type ProcessStripeEventInput } from '../workflows/contracts';
import { insertEvent } from '../src/store/events';
import { paidInvoice } from './support/billing-events';
import { deliverTwiceAndWait, eventStatusWhenDone, historyOf, isPatchMarker, startTestService, type TestService } from './support/service';
import { stripeEvent } from './support/stripe-events';
import type { StripeEvent } from '../src/platform/stripe-event';

/**
 * Runs started by this code carry the handler generation and take the newest handlers without
 * patch markers (each of which also upserts a search attribute: a visibility write per event);
 * runs started without one, by the code before it, still ask their patches.
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

test('when a paid invoice is delivered, then its whole run is one workflow task without patch markers, the email included, and every effect happens once', async () => {
  const event = stripeEvent('invoice.paid', paidInvoice({ customerEmail: 'generation@example.com' }));

  await deliverTwiceAndWait(service, event);

  const history = await historyOf(service, event.id);
  expect(history.filter(isPatchMarker)).toEqual([]);
  expect(history.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes)).toEqual([]);
  // Every step local, the email's first attempt too: no activity task, no second workflow task.
  expect(history.filter((e) => e.activityTaskScheduledEventAttributes)).toEqual([]);
  expect(history.filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(1);
  expect(history.filter((e) => e.markerRecordedEventAttributes)).toHaveLength(4);
  const { rows } = await service.database.db.query('SELECT count(*)::int AS n FROM payments WHERE source_event_id = $1', [event.id]);
  expect(rows[0].n).toBe(1);
  expect(service.smtp.to('generation@example.com')).toHaveLength(1);
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
