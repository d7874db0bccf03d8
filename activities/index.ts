import type { Db } from '../src/db';
import { loadEventPayload, markFinished, markProcessing, type EventStatus } from '../src/events';
import { upsertCustomer } from './customers';

export interface ActivityDependencies {
  db: Db;
}

/** Every side effect of the workflows, as plain async functions over their dependencies. */
export function createActivities({ db }: ActivityDependencies) {
  return {
    async markEventProcessing(eventId: string, runId: string): Promise<void> {
      await markProcessing(db, eventId, runId);
    },

    async markEventFinished(
      eventId: string,
      status: Extract<EventStatus, 'processed' | 'ignored' | 'failed'>,
      error?: string,
    ): Promise<void> {
      await markFinished(db, eventId, status, error);
    },

    async syncCustomer(eventId: string): Promise<void> {
      const event = await loadEventPayload(db, eventId);
      await upsertCustomer(db, event);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
