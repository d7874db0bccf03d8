import {
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { stepSummary } from './step-summaries';

// The activity options the workflows use, named for how they retry. Start-to-close timeouts are
// short: a worker that dies mid-activity (SIGKILL, OOM) is noticed when they expire, and the
// activity runs again on another worker.

/**
 * Work in PostgreSQL, run by the worker that runs the workflow task and recorded as a marker:
 * no round trip to the server per step. Retried until done like the others; after a worker
 * crash the whole workflow task, and with it these steps, runs again on another worker.
 */
export const localUntilDone = described(proxyLocalActivities, {
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** Bookkeeping of the event row: quick database steps, retried until done, at most a minute apart. */
export const retryQuickly = described(proxyActivities, {
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/**
 * Effects (database, mail, Stripe), retried without limit while a dependency is away: an
 * accepted event must end processed. Bad data fails at once with a typed, non-retryable
 * ApplicationFailure instead.
 */
export const retryUntilDone = described(proxyActivities, {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '5 minutes' },
});

/**
 * The first attempt of an effect on the outside world, inside the workflow task: one attempt,
 * with the same timeout as a regular one.
 */
export const localOnce = described(proxyLocalActivities, {
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 1 },
});

/**
 * Effects on the outside world (mail): the first attempt runs as a local activity, so an event
 * whose mail server answers needs no activity task and no second workflow task, the two server
 * round trips that cost the most per event. An attempt that fails (mail server away or slow,
 * another attempt sending the same email) is followed by the step as a regular activity under
 * retryUntilDone, with its retries visible in the history; a permanent failure fails there at
 * once, a cancellation ends the step. The step is as idempotent as before (the outbox key), so
 * running it twice changes nothing. (A local activity's failure reaches the workflow as the
 * activity's own error, not wrapped in an ActivityFailure: runs since 2026-12-04 have always
 * taken the regular activity after a failed local attempt, and still do, so that they replay.)
 */
export const tryLocallyThenRetry: Activities = new Proxy({} as Activities, {
  get: (_target, name) => {
    if (typeof name !== 'string') return undefined;
    const step = (proxies: Activities) => proxies[name as keyof Activities] as (...a: unknown[]) => Promise<unknown>;
    return async (...args: unknown[]) => {
      try {
        return await step(localOnce)(...args);
      } catch (err) {
        if (isCancellation(err)) throw err;
        return step(retryUntilDone)(...args);
      }
    };
  },
});

/**
 * A failure no retry can mend (bad data): a non-retryable ApplicationFailure, as a local activity
 * reports it (itself) or a regular one (the cause of an ActivityFailure).
 */
export function isPermanent(err: unknown): boolean {
  const failure = err instanceof ActivityFailure ? err.cause : err;
  return failure instanceof ApplicationFailure && failure.nonRetryable === true;
}

/** Reconcile lists a long outage's events from Stripe; each start inside is idempotent. */
export const retryFiveTimes = described(proxyActivities, {
  startToCloseTimeout: '15 minutes',
  retry: { initialInterval: '10 seconds', maximumInterval: '5 minutes', maximumAttempts: 5 },
});

/**
 * Activities whose every call carries a one-line summary of what it does to which object (see
 * step-summaries), shown in the Web UI's history: the summary is per call, so each call is
 * made through a proxy with its own options.
 */
function described<Options extends ActivityOptions | LocalActivityOptions>(
  proxy: (options: Options) => Activities,
  options: Options,
): Activities {
  return new Proxy({} as Activities, {
    get: (_target, name) => {
      if (typeof name !== 'string') return undefined;
      return (...args: unknown[]) => {
        const step = proxy({ ...options, summary: stepSummary(name, args) })[name as keyof Activities] as (...a: unknown[]) => Promise<unknown>;
        return step(...args);
      };
    },
  });
}
