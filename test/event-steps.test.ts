import { eventStepActivities } from '../activities/event-steps';
import { resultOfDatabaseSteps } from '../workflows/contracts';

/** An event's steps and bookkeeping in one local activity (generations 3 and 4). */

function recordingSteps(failAt?: string, paymentId: number | null = 42) {
  const calls: string[] = [];
  const step =
    <Result>(name: string, result?: Result) =>
    async (...args: unknown[]) => {
      calls.push(`${name}(${args.join(', ')})`);
      if (name === failAt) throw new Error(`${name} failed`);
      return result as Result;
    };
  const steps = {
    markEventProcessing: step<void>('markEventProcessing'),
    markEventFinished: step<void>('markEventFinished'),
    recordInvoicePaid: step('recordInvoicePaid', paymentId),
    syncPlainObject: step('syncPlainObject'),
    emailPaymentDocuments: step('emailPaymentDocuments', 'sent'),
  };
  return { calls, runEventSteps: eventStepActivities(steps).runEventSteps };
}

test('when steps run together, then the event is marked processing first, the steps run in order, it is marked finished last, and the last result is returned', async () => {
  const { calls, runEventSteps } = recordingSteps();

  const result = await runEventSteps({
    eventId: 'evt_1',
    runId: 'run_1',
    steps: [{ name: 'syncPlainObject', args: ['evt_1', 'charges'] }, { name: 'recordInvoicePaid', args: ['evt_1'] }],
    finish: 'processed',
  });

  expect(calls).toEqual(['markEventProcessing(evt_1, run_1)', 'syncPlainObject(evt_1, charges)', 'recordInvoicePaid(evt_1)', 'markEventFinished(evt_1, processed)']);
  expect(result).toBe(42);
});

test('when a step fails, then the steps after it do not run and the event is not marked finished', async () => {
  const { calls, runEventSteps } = recordingSteps('syncPlainObject');

  const run = runEventSteps({ eventId: 'evt_2', steps: [{ name: 'syncPlainObject', args: ['evt_2', 'charges'] }, { name: 'recordInvoicePaid', args: ['evt_2'] }], finish: 'processed' });

  await expect(run).rejects.toThrow('syncPlainObject failed');
  expect(calls).toEqual(['syncPlainObject(evt_2, charges)']);
});

test('when a step has no such name, then nothing runs and it fails for good as InvalidInput', async () => {
  const { calls, runEventSteps } = recordingSteps();

  const run = runEventSteps({ eventId: 'evt_3', runId: 'run_3', steps: [{ name: 'recordInvoicePaid', args: ['evt_3'] }, { name: 'dropTables', args: [] }], finish: 'processed' });

  await expect(run).rejects.toMatchObject({ type: 'InvalidInput', nonRetryable: true, message: 'no step named dropTables' });
  expect(calls).toEqual([]);
});

test('when only the bookkeeping is asked for, then the event is marked processing and finished and nothing else runs', async () => {
  const { calls, runEventSteps } = recordingSteps();

  await runEventSteps({ eventId: 'evt_4', runId: 'run_4', steps: [], finish: 'ignored' });

  expect(calls).toEqual(['markEventProcessing(evt_4, run_4)', 'markEventFinished(evt_4, ignored)']);
});

/** A paid invoice's steps as a generation-4 run writes them down: its email asks for the payment the database steps recorded. */
const paidInvoiceSteps = (eventId: string) => [
  { name: 'recordInvoicePaid', args: [eventId], outside: false },
  // As the workflow sends it: the token, turned into JSON and back.
  { name: 'emailPaymentDocuments', args: [JSON.parse(JSON.stringify(resultOfDatabaseSteps))], outside: true },
];

test('when an email step asks for the result of the database steps, then it is given it, and that result is what the run returns', async () => {
  const { calls, runEventSteps } = recordingSteps();

  const result = await runEventSteps({ eventId: 'evt_5', runId: 'run_5', steps: paidInvoiceSteps('evt_5'), finish: 'processed' });

  expect(calls).toEqual(['markEventProcessing(evt_5, run_5)', 'recordInvoicePaid(evt_5)', 'emailPaymentDocuments(42)', 'markEventFinished(evt_5, processed)']);
  expect(result).toBe(42);
});

test('when the database steps found nothing to send, then the email step that asks for their result is left out and the event still finishes', async () => {
  const { calls, runEventSteps } = recordingSteps(undefined, null);

  await runEventSteps({ eventId: 'evt_6', runId: 'run_6', steps: paidInvoiceSteps('evt_6'), finish: 'processed' });

  expect(calls).toEqual(['markEventProcessing(evt_6, run_6)', 'recordInvoicePaid(evt_6)', 'markEventFinished(evt_6, processed)']);
});

test('when the email of all the steps at once fails, then the event is not marked finished', async () => {
  const { calls, runEventSteps } = recordingSteps('emailPaymentDocuments');

  const run = runEventSteps({ eventId: 'evt_7', runId: 'run_7', steps: paidInvoiceSteps('evt_7'), finish: 'processed' });

  await expect(run).rejects.toThrow('emailPaymentDocuments failed');
  expect(calls).toEqual(['markEventProcessing(evt_7, run_7)', 'recordInvoicePaid(evt_7)', 'emailPaymentDocuments(42)']);
});
