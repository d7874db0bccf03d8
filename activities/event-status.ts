import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../workflows/contracts';
import { markFinished, markProcessing, type EventStatus } from '../src/store/events';
import type { ActivityDependencies } from './dependencies';

/** The event row follows its execution: processing, then processed, ignored or failed. */
export function eventStatusActivities({ db, metrics }: ActivityDependencies) {
  return {
    async markEventProcessing(eventId: string, runId: string): Promise<void> {
      // The API commits the row while it starts the run, so the run may ask a moment early; the
      // retry finds it. An event whose row could not be stored waits here for a redelivery.
      if (!(await markProcessing(db, eventId, runId))) {
        log.warn('event not stored yet', { eventId });
        throw ApplicationFailure.retryable(`event ${eventId} is not stored yet`, FailureType.EventNotStored);
      }
      log.info('event processing', { eventId });
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
