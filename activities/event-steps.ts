import { ApplicationFailure } from '@temporalio/common';
import { argsWithResult, FailureType, type EventSteps } from '../workflows/contracts';
import type { eventStatusActivities } from './event-status';

type Step = (...args: never[]) => Promise<unknown>;
type Bookkeeping = Pick<ReturnType<typeof eventStatusActivities>, 'markEventProcessing' | 'markEventFinished'>;

/**
 * An event's steps, and its bookkeeping, as one local activity: a stretch of database steps
 * (generation 3), or all of them, emails included (the first attempt of generation 4). Every
 * step is the same idempotent function it is alone, run in order; after a crash or a retry the
 * whole runs again and the steps that were done find their keys. One activity instead of one per
 * step saves the worker a round trip into the workflow for each (BENCHMARKS.md).
 */
export function eventStepActivities(steps: Record<string, Step> & Bookkeeping) {
  const stepNamed = (name: string): Step => {
    if (!Object.hasOwn(steps, name)) throw ApplicationFailure.nonRetryable(`no step named ${name}`, FailureType.InvalidInput);
    return steps[name];
  };
  return {
    /**
     * The result of the last database step: a paid invoice's payment id, handed to the email
     * step that asks for it (and that step left out when it is null), or returned for it.
     */
    async runEventSteps({ eventId, runId, steps: planned, finish }: EventSteps): Promise<unknown> {
      const run = planned.map(({ name, args, outside }) => ({ step: stepNamed(name), args, outside }));
      if (runId !== undefined) await steps.markEventProcessing(eventId, runId);
      let result: unknown = undefined;
      for (const { step, args, outside } of run) {
        const given = argsWithResult(args, result);
        if (given === undefined) continue;
        const answer = await step(...(given as never[]));
        if (!outside) result = answer;
      }
      if (finish !== undefined) await steps.markEventFinished(eventId, finish);
      return result;
    },
  };
}
