import type { Client } from '@temporalio/client';
import { IntakeError, sharedAcceptance, type AcceptedEvent } from '../src/intake/accept-event';
import { countRows, createTestDatabase, type TestDatabase } from './support/database';
import { until } from './support/until';
import { stripeEvent, stripeObject } from './support/stripe-events';

/**
 * Copies of one delivery that reach one API process at once, or while it remembers accepting the
 * event, share its acceptance. The engine is faked here (a client whose starts wait until the
 * test lets them go, and count), so that the copies are sure to arrive while the first is still
 * being accepted; the database is real.
 */
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(() => database?.drop());

/** Starts that wait until the test lets them go, then take the given outcomes in turn (the last one repeats). */
function heldTemporal(outcomes: ('started' | Error)[] = ['started']) {
  const starts: string[] = [];
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const client = {
    connection: { withDeadline: (_deadline: number, start: () => Promise<unknown>) => start() },
    workflow: {
      start: async (_type: string, options: { workflowId: string }) => {
        starts.push(options.workflowId);
        const outcome = outcomes[Math.min(starts.length, outcomes.length) - 1];
        await held;
        if (outcome instanceof Error) throw outcome;
        return {};
      },
    },
  } as unknown as Client;
  return { client, starts, release };
}

const config = { TEMPORAL_TASK_QUEUE: 'shared-acceptance', TEMPORAL_START_TIMEOUT_MS: 5000 };

test('when five copies of an event arrive while the first is being accepted, then it is stored and started once and four answers are duplicates', async () => {
  const temporal = heldTemporal();
  const accept = sharedAcceptance({ db: database.db, temporal: temporal.client, config });
  const event = stripeEvent('customer.created', stripeObject('customer'));

  const answers = Promise.all(Array.from({ length: 5 }, () => accept(event)));
  await until(async () => temporal.starts.length === 1);
  temporal.release();

  expect((await answers).map((answer: AcceptedEvent) => answer.duplicate).sort()).toEqual([false, true, true, true, true]);
  expect(temporal.starts).toEqual([event.id]);
  expect(await countRows(database.db, 'SELECT 1 FROM stripe_events WHERE id = $1', [event.id])).toBe(1);
});

test('when the first acceptance fails, then the next copy waiting tries on its own and the others share its answer', async () => {
  const temporal = heldTemporal([new Error('Temporal is away'), 'started']);
  const accept = sharedAcceptance({ db: database.db, temporal: temporal.client, config });
  const event = stripeEvent('customer.created', stripeObject('customer'));

  const answers = Promise.allSettled(Array.from({ length: 3 }, () => accept(event)));
  await until(async () => temporal.starts.length === 1);
  temporal.release();

  const [first, second, third] = await answers;
  expect(first.status === 'rejected' && first.reason).toBeInstanceOf(IntakeError);
  expect([second, third]).toEqual([
    { status: 'fulfilled', value: { eventId: event.id, duplicate: false } },
    { status: 'fulfilled', value: { eventId: event.id, duplicate: true } },
  ]);
  expect(temporal.starts).toEqual([event.id, event.id]);
});

test('when a copy arrives after the first was answered, then it is answered duplicate without asking Temporal again', async () => {
  const temporal = heldTemporal();
  temporal.release();
  const accept = sharedAcceptance({ db: database.db, temporal: temporal.client, config });
  const event = stripeEvent('customer.created', stripeObject('customer'));

  const first = await accept(event);
  const copy = await accept(event);

  expect([first.duplicate, copy.duplicate]).toEqual([false, true]);
  expect(temporal.starts).toEqual([event.id]);
  expect(await countRows(database.db, 'SELECT 1 FROM stripe_events WHERE id = $1', [event.id])).toBe(1);
});

test('when a copy arrives after the process stopped remembering the acceptance, then it is accepted on its own', async () => {
  const temporal = heldTemporal();
  temporal.release();
  let now = 1_000_000;
  const accept = sharedAcceptance({ db: database.db, temporal: temporal.client, config }, { memory: { ms: 60_000, events: 10 }, now: () => now });
  const event = stripeEvent('customer.created', stripeObject('customer'));

  await accept(event);
  now += 60_000;
  await accept(event);

  expect(temporal.starts).toEqual([event.id, event.id]);
});

test('when more events were accepted than the process remembers, then a copy of the oldest is accepted on its own and one of the newest is not', async () => {
  const temporal = heldTemporal();
  temporal.release();
  const accept = sharedAcceptance({ db: database.db, temporal: temporal.client, config }, { memory: { ms: 60_000, events: 2 } });
  const [oldest, middle, newest] = Array.from({ length: 3 }, () => stripeEvent('customer.created', stripeObject('customer')));

  for (const event of [oldest, middle, newest]) await accept(event);
  await accept(newest);
  await accept(oldest);

  expect(temporal.starts).toEqual([oldest.id, middle.id, newest.id, oldest.id]);
});

test('when the first acceptance failed, then a copy arriving later is accepted on its own', async () => {
  const temporal = heldTemporal([new Error('Temporal is away'), 'started']);
  temporal.release();
  const accept = sharedAcceptance({ db: database.db, temporal: temporal.client, config });
  const event = stripeEvent('customer.created', stripeObject('customer'));

  await expect(accept(event)).rejects.toBeInstanceOf(IntakeError);
  const copy = await accept(event);

  expect(copy).toEqual({ eventId: event.id, duplicate: false });
  expect(temporal.starts).toEqual([event.id, event.id]);
});
