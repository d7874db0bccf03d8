import type { Client } from '@temporalio/client';
import type { Config } from '../platform/config';
import type { Db } from '../platform/db';
import type { Metrics } from '../platform/metrics';
import { insertEvent, markAccepted } from '../store/events';
import { type StripeEvent } from '../platform/stripe-event';
import { startEventWorkflow } from './event-workflow';

export interface IntakeDependencies {
  db: Db;
  temporal: Client;
  config: Pick<Config, 'TEMPORAL_TASK_QUEUE' | 'TEMPORAL_START_TIMEOUT_MS'>;
  /** The webhook's: each step's time. Reconcile, which answers no one, does not time its steps. */
  metrics?: Pick<Metrics, 'acceptanceStepSeconds'>;
}

export interface AcceptedEvent {
  eventId: string;
  /** The event was accepted before (by another delivery, or by reconcile). */
  duplicate: boolean;
}

/** The step of acceptance that failed; the caller decides how to answer (503, or retry later). */
export class IntakeError extends Error {
  constructor(
    readonly step: 'store the event' | 'start the workflow' | 'record the workflow' | 'accept the event in time',
    readonly cause: unknown,
  ) {
    super(`could not ${step}: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'IntakeError';
  }
}

/**
 * Makes an event durable: its row in PostgreSQL, then its one workflow. Webhook deliveries and
 * reconcile both come through here, so an event reaching us both ways still runs once.
 */
export async function acceptEvent(deps: IntakeDependencies, event: StripeEvent): Promise<AcceptedEvent> {
  const { db, temporal, config } = deps;
  const step = timedSteps(deps.metrics);
  const stored = await step('store the event', () => insertEvent(db, event));
  if (stored.accepted_at) return { eventId: event.id, duplicate: true };

  const started = await step('start the workflow', () =>
    startEventWorkflow(temporal, config.TEMPORAL_TASK_QUEUE, event, config.TEMPORAL_START_TIMEOUT_MS),
  );
  const first = await step('record the workflow', () => markAccepted(db, event.id, started.workflowId, started.runId));
  return { eventId: event.id, duplicate: !first };
}

type Step = Exclude<IntakeError['step'], 'accept the event in time'>;

const stepLabels: Record<Step, string> = { 'store the event': 'store', 'start the workflow': 'start', 'record the workflow': 'record' };

/** Runs a step of acceptance: its failure named for the step, its time observed (failed or not). */
function timedSteps(metrics: IntakeDependencies['metrics']) {
  return async <T>(name: Step, fn: () => Promise<T>): Promise<T> => {
    const endTimer = metrics?.acceptanceStepSeconds.startTimer({ step: stepLabels[name] });
    try {
      return await fn();
    } catch (err) {
      throw new IntakeError(name, err);
    } finally {
      endTimer?.();
    }
  };
}
