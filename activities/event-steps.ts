import { ApplicationFailure } from '@temporalio/common';
import { FailureType, type EventSteps } from '../workflows/contracts';

type Step = (...args: never[]) => Promise<unknown>;

/**
 * An event's database steps, and its bookkeeping, as one local activity (runs of generation 3).
 * Every step is the same idempotent function it is alone, run in order; after a crash or a retry
 * the whole runs again and the steps that were done find their keys. One activity instead of one
 * per step saves the worker a round trip into the workflow for each (BENCHMARKS.md).
 */
export function eventStepActivities(steps: Record<string, Step>) {
  const stepNamed = (name: string): Step => {
    if (!Object.hasOwn(steps, name)) throw ApplicationFailure.nonRetryable(`no step named ${name}`, FailureType.InvalidInput);
    return steps[name];
  };
  return {
    /** The result of the last step: a paid invoice's payment id, for its email. */
    async runEventSteps({ eventId, runId, steps: planned, finish }: EventSteps): Promise<unknown> {
      const run = planned.map(({ name, args }) => ({ step: stepNamed(name), args: args as never[] }));
      if (runId !== undefined) await stepNamed('markEventProcessing')(...([eventId, runId] as never[]));
      let result: unknown = undefined;
      for (const { step, args } of run) result = await step(...args);
      if (finish !== undefined) await stepNamed('markEventFinished')(...([eventId, finish] as never[]));
      return result;
    },
  };
}
