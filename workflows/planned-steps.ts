import { isCancellation } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { isPermanent } from './activity-proxies';
import { argsWithResult, resultOfDatabaseSteps } from './contracts';

/**
 * Runs of generation 3 write down the steps their handler asks for before any runs, then run
 * each stretch of database steps as one local activity (`runEventSteps`): the first also marks
 * the event processing and the last marks it processed. An email stays a step of its own, tried
 * locally and retried as an activity. Every local activity is a round trip between the worker's
 * core and the workflow's sandbox, 2–3 ms of the worker's CPU on the bench machine before the
 * step does anything (BENCHMARKS.md), so a paid invoice is three local activities and most
 * other events one. Runs of generation 4 first try all the steps of an event that sends email,
 * emails included, as one local activity, and take generation 3's way only when that attempt
 * fails: a paid invoice whose mail server answers is one local activity. A handler may hand a
 * database step's result on to an email step (a paid invoice's payment id) but not decide
 * anything else by it: it is not known while the steps are written down.
 */

/** The steps a handler uses. */
export interface Steps {
  /** The event row's status. */
  bookkeeping: Activities;
  /** Payments, documents, ledger, subscriptions, stored objects, dunning cases. */
  database: Activities;
  /** Emails. */
  outside: Activities;
}

export interface PlannedStep {
  name: string;
  args: unknown[];
  outside: boolean;
}

/** Steps that only write themselves down, answering at once. */
export function stepRecorder(planned: PlannedStep[]): Steps {
  const recorder = (outside: boolean) =>
    new Proxy({} as Activities, {
      get: (_target, name) => {
        if (typeof name !== 'string') return undefined;
        return async (...args: unknown[]) => {
          planned.push({ name, args, outside });
          return outside ? undefined : resultOfDatabaseSteps;
        };
      },
    });
  return { bookkeeping: recorder(false), database: recorder(false), outside: recorder(true) };
}

type Call = (...args: unknown[]) => Promise<unknown>;

/** Runs the planned steps of an event, its bookkeeping joined to its database steps. */
export async function runPlannedSteps(
  { eventId, runId }: { eventId: string; runId: string },
  planned: PlannedStep[],
  { database, outside }: Pick<Steps, 'database' | 'outside'>,
): Promise<void> {
  let markProcessing: string | undefined = runId;
  let stretch: { name: string; args: unknown[] }[] = [];
  let result: unknown;
  const runStretch = async (finish?: 'processed') => {
    result = await database.runEventSteps({ eventId, runId: markProcessing, steps: stretch, finish });
    markProcessing = undefined;
    stretch = [];
  };

  for (const step of planned) {
    if (!step.outside) {
      stretch.push({ name: step.name, args: step.args });
      continue;
    }
    if (markProcessing !== undefined || stretch.length > 0) await runStretch();
    const args = argsWithResult(step.args, result);
    // The database steps found nothing to send (an invoice paid without a payment).
    if (args === undefined) continue;
    await (outside[step.name as keyof Activities] as Call)(...args);
  }
  await runStretch('processed');
}

/**
 * All the planned steps, emails included, with the event's bookkeeping, as one local attempt
 * (generation 4). True when it did them all; false when it failed for a reason that can pass,
 * and the run then takes the steps stretch by stretch, each again (each is idempotent).
 */
export async function runAllStepsOnce(
  { eventId, runId }: { eventId: string; runId: string },
  planned: PlannedStep[],
  localAttempt: Activities,
): Promise<boolean> {
  try {
    await localAttempt.runEventSteps({ eventId, runId, steps: planned, finish: 'processed' });
    return true;
  } catch (err) {
    if (isCancellation(err) || isPermanent(err)) throw err;
    return false;
  }
}
