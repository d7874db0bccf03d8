import { log, sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../workflows/contracts';
import { markFinished, markProcessing, type EventStatus } from '../src/store/events';
import type { ActivityDependencies } from './dependencies';

/** How long a run's first step waits for its event row, in steps, before it fails and is retried (630 ms in all). */
const rowWaitsMs = [10, 20, 40, 80, 160, 320];

/** The event row follows its execution: processing, then processed, ignored or failed. */
export function eventStatusActivities({ db, metrics }: ActivityDependencies) {
  return {
    async markEventProcessing(eventId: string, runId: string): Promise<void> {
      // The API commits the row while it starts the run, so the run may ask a moment early: it
      // waits for the row briefly. An event whose row could not be stored fails here, and the
      // step is retried until a redelivery (or reconcile) stores it.
      for (const waitMs of [...rowWaitsMs, undefined]) {
        if (await markProcessing(db, eventId, runId)) {
          log.info('event processing', { eventId });
          return;
        }
        if (waitMs !== undefined) await sleep(waitMs);
      }
      log.warn('event not stored yet', { eventId });
      throw ApplicationFailure.retryable(`event ${eventId} is not stored yet`, FailureType.EventNotStored);
    },

    async markEventFinished(
      eventId: string,
      status: Extract<EventStatus, 'processed' | 'ignored' | 'failed'>,
      error?: string,
    ): Promise<void> {
      const finished = await markFinished(db, eventId, status, error);
      if (!finished) return;
      metrics.eventsProcessed.inc({ type: finished.type, result: status });
      metrics.eventProcessingSeconds.observe({ type: finished.type }, finished.seconds);
      log[status === 'failed' ? 'warn' : 'info'](`event ${status}`, { eventId, type: finished.type, error });
    },
  };
}
