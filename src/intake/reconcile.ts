import { ScheduleAlreadyRunning, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import { WorkflowType } from '../../workflows/contracts';
import type { StripeEvent } from '../platform/stripe-event';
import { readCheckpoint, writeCheckpoint } from '../store/reconcile-checkpoints';
import { acceptEvent, type IntakeDependencies } from './accept-event';

export interface ReconcileDependencies extends IntakeDependencies {
  stripe: Stripe;
  log: Logger;
}

export interface ReconcileResult {
  /** Events Stripe listed since the checkpoint (minus the overlap). */
  listed: number;
  /** Of those, events that had no workflow yet and now have one. */
  started: string[];
  /** Unix seconds of the newest event seen; the next run starts there. */
  checkpoint: number | null;
}

const checkpointName = 'stripe-events';
/** Events created just before the checkpoint may be listed late; read them again, cheaply skipped. */
const overlapSeconds = 3600;
/** Without a checkpoint, look back as far as Stripe itself retries a delivery. */
const firstLookbackSeconds = 3 * 24 * 3600;

/**
 * Lists events from Stripe's events API since the checkpoint and accepts every one that has no
 * workflow yet, exactly as a webhook delivery would. An endpoint outage longer than Stripe's
 * retry window therefore loses nothing. The checkpoint moves only after the whole listing went
 * through, so a run that fails half-way is repeated, not skipped.
 */
export async function reconcileEvents(deps: ReconcileDependencies, now = Math.floor(Date.now() / 1000)): Promise<ReconcileResult> {
  const { db, stripe, log } = deps;
  const previous = await readCheckpoint(db, checkpointName);
  const since = previous === null ? now - firstLookbackSeconds : previous - overlapSeconds;
  const started: string[] = [];
  let listed = 0;
  let newest = previous;
  for await (const event of stripe.events.list({ created: { gte: since }, limit: 100 })) {
    listed += 1;
    newest = Math.max(newest ?? 0, event.created);
    // Known events come back as duplicates from the same single query that stores new ones.
    const accepted = await acceptEvent(deps, event as unknown as StripeEvent);
    if (!accepted.duplicate) {
      started.push(event.id);
      log.info({ eventId: event.id, type: event.type }, 'reconcile: started a missed event');
    }
  }
  if (newest !== null) await writeCheckpoint(db, checkpointName, newest);
  log.info({ listed, started: started.length, since }, 'reconcile: done');
  return { listed, started, checkpoint: newest };
}

export function reconcileScheduleId(taskQueue: string): string {
  return `stripe-reconcile-${taskQueue}`;
}

/** Hourly reconcile against Stripe's events API; created once, kept when it already exists. */
export async function ensureReconcileSchedule(client: Client, taskQueue: string): Promise<void> {
  try {
    await client.schedule.create({
      scheduleId: reconcileScheduleId(taskQueue),
      spec: { intervals: [{ every: '1h' }] },
      action: { type: 'startWorkflow', workflowType: WorkflowType.reconcileStripeEvents, taskQueue, args: [] },
      policies: { overlap: 'SKIP' },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
}

