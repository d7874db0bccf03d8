import type { Client } from '@temporalio/client';
import type { Config } from '../platform/config';
import type { Db } from '../platform/db';
import type { Metrics } from '../platform/metrics';
import { getEvent, insertEvent } from '../store/events';
import { ownerOfCharge, ownerOfInvoice } from '../store/payments';
import { eventRefs, idOf, type EventRefs, type Json, type StripeEvent } from '../platform/stripe-event';
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
    readonly step: 'look up the event' | 'store the event' | 'start the workflow' | 'accept the event in time',
    readonly cause: unknown,
  ) {
    super(`could not ${step}: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'IntakeError';
  }
}

/**
 * Makes an event durable: its row in PostgreSQL and its one workflow. Webhook deliveries and
 * reconcile both come through here, so an event reaching us both ways still runs once.
 *
 * A new event's row and workflow are written at the same time, and the answer waits for both:
 * the acknowledgement costs one wait instead of two in a row. Its run may therefore begin a
 * moment before the row is committed; the run's first step waits for the row. Which delivery
 * came first is Temporal's to say (the start that created the workflow); the row's `accepted_at`,
 * set by the run's first step, keeps answering later deliveries after Temporal has forgotten
 * the run (retention).
 */
export async function acceptEvent(deps: IntakeDependencies, event: StripeEvent): Promise<AcceptedEvent> {
  const { db, temporal, config } = deps;
  const step = timedSteps(deps.metrics);
  const [known, refs] = await step('look up the event', () => Promise.all([getEvent(db, event.id), refsOf(db, event)]));
  if (known?.accepted_at) return { eventId: event.id, duplicate: true };

  // The row is sent first, so that it is usually committed before the run's first step asks for it.
  const store = known ? undefined : step('store the event', () => insertEvent(db, event, refs));
  const start = step('start the workflow', () =>
    startEventWorkflow(temporal, config.TEMPORAL_TASK_QUEUE, event, config.TEMPORAL_START_TIMEOUT_MS, refs),
  );
  const [created] = await Promise.all([start, store]);
  return { eventId: event.id, duplicate: !created };
}

/**
 * How long, and for how many events at most, an API process remembers that it accepted an event.
 * Within it, Temporal would refuse the start of another run of the event anyway (its
 * reuse policy), so a copy is answered as Temporal would answer it, without the round trip.
 */
export const acceptedMemory = { ms: 10 * 60_000, events: 50_000 };

interface AcceptedMemoryOptions {
  memory?: typeof acceptedMemory;
  now?: () => number;
}

/**
 * Deliveries of one event that reach this process share one acceptance. Copies that arrive at
 * the same time wait for the first: it looks the event up, stores it and starts its workflow,
 * and they answer as duplicates; if it fails, the next copy waiting tries on its own, as it would
 * have alone. Copies that arrive later, while this process remembers the acceptance
 * (`acceptedMemory`), answer as duplicates at once. Stripe sends an event again when an answer
 * is slow, which is when the engine is busiest, and until the event's run has begun its row
 * cannot tell a copy from a new event: each copy would ask Temporal to start the workflow only
 * to hear that it exists, a turn on the engine's busiest lock per copy. Copies that reach other
 * API processes are still told apart by Temporal and the event's row.
 */
export function sharedAcceptance(
  deps: IntakeDependencies,
  { memory = acceptedMemory, now = Date.now }: AcceptedMemoryOptions = {},
): (event: StripeEvent) => Promise<AcceptedEvent> {
  const underWay = new Map<string, Promise<AcceptedEvent>>();
  /** When each event was accepted, oldest first (a Map keeps insertion order). */
  const acceptedAt = new Map<string, number>();
  const acceptedRecently = (eventId: string): boolean => {
    const forgetBefore = now() - memory.ms;
    for (const [id, at] of acceptedAt) {
      if (acceptedAt.size <= memory.events && at > forgetBefore) break;
      acceptedAt.delete(id);
    }
    return acceptedAt.has(eventId);
  };

  return async (event) => {
    if (acceptedRecently(event.id)) return { eventId: event.id, duplicate: true };
    for (let first = underWay.get(event.id); first; first = underWay.get(event.id)) {
      if (await first.then(() => true, () => false)) return { eventId: event.id, duplicate: true };
    }
    const acceptance = acceptEvent(deps, event);
    underWay.set(event.id, acceptance);
    try {
      const accepted = await acceptance;
      acceptedAt.set(event.id, now());
      return accepted;
    } finally {
      underWay.delete(event.id);
    }
  };
}

/**
 * The objects an event is about, for its row (the admin API's filters) and its execution's search
 * attributes (the Web UI's). A dispute, a refund or an early fraud warning names only its charge:
 * its customer and invoice come from what is stored of that charge, so a chargeback, a refund's
 * update or a fraud warning is found with the customer's and the invoice's other executions. An
 * invoice payment names only its invoice: its customer comes from what is stored of that.
 * Other events name theirs, and cost no query.
 */
async function refsOf(db: Db, event: StripeEvent): Promise<EventRefs> {
  const named = eventRefs(event);
  const object = event.data.object as Json;
  if (object.object === 'invoice_payment' && named.invoiceId && !named.customerId) return ownerOfInvoice(db, named.invoiceId);
  const namesOnlyItsCharge = object.object === 'dispute' || object.object === 'refund' || object.object === 'radar.early_fraud_warning';
  const chargeId = namesOnlyItsCharge ? idOf(object.charge) : null;
  if (!chargeId || named.customerId) return named;
  // Its payment intent finds the part of an invoice paid in parts whose list names no charge.
  const owner = await ownerOfCharge(db, chargeId, idOf(object.payment_intent));
  return { customerId: owner.customerId, invoiceId: named.invoiceId ?? owner.invoiceId, subscriptionId: named.subscriptionId ?? owner.subscriptionId };
}

type Step = Exclude<IntakeError['step'], 'accept the event in time'>;

const stepLabels: Record<Step, string> = { 'look up the event': 'lookup', 'store the event': 'store', 'start the workflow': 'start' };

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
