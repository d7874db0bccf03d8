import { log } from '@temporalio/activity';
import { markFinished, markProcessing, type EventStatus } from '../src/store/events';
import type { ActivityDependencies } from './dependencies';

/** The event row follows its execution: processing, then processed, ignored or failed. */
export function eventStatusActivities({ db, metrics }: ActivityDependencies) {
  return {
    async markEventProcessing(eventId: string, runId: string): Promise<void> {
      await markProcessing(db, eventId, runId);
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
