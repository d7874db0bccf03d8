import { eventStepActivities } from '../activities/event-steps';

/** An event's database steps and bookkeeping in one local activity (generation 3). */

function recordingSteps(failAt?: string) {
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
    recordInvoicePaid: step('recordInvoicePaid', 42),
    syncPlainObject: step('syncPlainObject'),
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
