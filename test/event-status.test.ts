import { MockActivityEnvironment } from '@temporalio/testing';
import { eventStatusActivities } from '../activities/event-status';
import type { ActivityDependencies } from '../activities/dependencies';
import { createMetrics } from '../src/platform/metrics';
import { getEvent, insertEvent, markFinished, markRetried } from '../src/store/events';
import { createTestDatabase, type TestDatabase } from './support/database';
import { stripeEvent, stripeObject } from './support/stripe-events';

/**
 * The API writes an event's row and starts its run at the same time, so the run's first step
 * (`markEventProcessing`) may come before the row is committed.
 */

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(() => database?.drop());

const markEventProcessing = (eventId: string) => {
  const { markEventProcessing: step } = eventStatusActivities({ db: database.db, metrics: createMetrics() } as ActivityDependencies);
  return new MockActivityEnvironment().run(step, eventId, 'run-1');
};

test('when the first step asks before the event row is committed, then it waits for the row and records the run', async () => {
  const event = stripeEvent('customer.created', stripeObject('customer'));

  const [marked] = await Promise.allSettled([
    markEventProcessing(event.id),
    new Promise((resolve) => setTimeout(resolve, 100)).then(() => insertEvent(database.db, event)),
  ]);

  expect(marked.status).toBe('fulfilled');
  expect(await getEvent(database.db, event.id)).toMatchObject({
    status: 'processing',
    attempts: 1,
    workflow_id: event.id,
    run_id: 'run-1',
    accepted_at: expect.any(Date),
  });
});

test('when the event row does not come, then the step fails retryably as EventNotStored and writes nothing', async () => {
  const event = stripeEvent('customer.created', stripeObject('customer'));

  const marking = markEventProcessing(event.id);

  await expect(marking).rejects.toMatchObject({ type: 'EventNotStored', nonRetryable: false });
  expect(await getEvent(database.db, event.id)).toBeUndefined();
});

test('when a failed event is retried, then it shows received with no finishing time until its new run ends', async () => {
  const event = stripeEvent('customer.created', stripeObject('customer'));
  await insertEvent(database.db, event);
  await markEventProcessing(event.id);
  await markFinished(database.db, event.id, 'failed', 'the mail server refused');

  await markRetried(database.db, event.id, event.id, 'run-2');

  expect(await getEvent(database.db, event.id)).toMatchObject({ status: 'received', run_id: 'run-2', processed_at: null, last_error: 'the mail server refused' });
});
