import { ApplicationFailure } from '@temporalio/common';
import { FailureType, type EventSteps } from '../workflows/contracts';
import type { eventStatusActivities } from './event-status';

type Step = (...args: never[]) => Promise<unknown>;
type Bookkeeping = Pick<ReturnType<typeof eventStatusActivities>, 'markEventProcessing' | 'markEventFinished'>;

/**
 * An event's database steps, and its bookkeeping, as one local activity (runs of generation 3).
 * Every step is the same idempotent function it is alone, run in order; after a crash or a retry
 * the whole runs again and the steps that were done find their keys. One activity instead of one
 * per step saves the worker a round trip into the workflow for each (BENCHMARKS.md).
 */
export function eventStepActivities(steps: Record<string, Step> & Bookkeeping) {
  const stepNamed = (name: string): Step => {
    if (!Object.hasOwn(steps, name)) throw ApplicationFailure.nonRetryable(`no step named ${name}`, FailureType.InvalidInput);
    return steps[name];
  };
  return {
    /** The result of the last step: a paid invoice's payment id, for its email. */
    async runEventSteps({ eventId, runId, steps: planned, finish }: EventSteps): Promise<unknown> {
      const run = planned.map(({ name, args }) => ({ step: stepNamed(name), args: args as never[] }));
      if (runId !== undefined) await steps.markEventProcessing(eventId, runId);
      let result: unknown = undefined;
      for (const { step, args } of run) result = await step(...args);
      if (finish !== undefined) await steps.markEventFinished(eventId, finish);
      return result;
    },
  };
}
