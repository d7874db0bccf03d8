import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One set per process; the API and the worker share it when they run in one process (`npm start`). */
export interface Metrics {
  registry: Registry;
  webhookRequests: Counter<'outcome'>;
  webhookAckSeconds: Histogram<'outcome'>;
  acceptanceStepSeconds: Histogram<'step'>;
  eventsProcessed: Counter<'type' | 'result'>;
  eventProcessingSeconds: Histogram<'type'>;
  emailsSent: Counter<'kind'>;
  reconcileEventsStarted: Counter;
  reconcileFailedAccounts: Gauge;
  reconcileFinished: Gauge;
}

const secondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    webhookRequests: new Counter({
      name: 'stripe_webhook_requests_total',
      help: 'Webhook requests by outcome (accepted, duplicate, or the error code)',
      labelNames: ['outcome'],
      registers,
    }),
    webhookAckSeconds: new Histogram({
      name: 'stripe_webhook_ack_seconds',
      help: 'Time from receiving a webhook request to answering it',
      labelNames: ['outcome'],
      buckets: secondsBuckets,
      registers,
    }),
    // Where an acknowledgement's time goes: a slow answer is PostgreSQL's or Temporal's.
    acceptanceStepSeconds: new Histogram({
      name: 'stripe_webhook_acceptance_step_seconds',
      help: 'Time of each step of accepting an event: lookup (whether it was accepted before), store (its row), start (its workflow); store and start run at the same time',
      labelNames: ['step'],
      buckets: [0.001, 0.0025, ...secondsBuckets],
      registers,
    }),
    eventsProcessed: new Counter({
      name: 'stripe_events_processed_total',
      help: 'Events whose processing ended, by event type and result (processed, ignored, failed)',
      labelNames: ['type', 'result'],
      registers,
    }),
    eventProcessingSeconds: new Histogram({
      name: 'stripe_event_processing_seconds',
      help: 'Time from the first delivery of an event to the end of its processing',
      labelNames: ['type'],
      buckets: [...secondsBuckets, 30, 60, 300, 3600],
      registers,
    }),
    emailsSent: new Counter({
      name: 'stripe_emails_sent_total',
      help: 'Emails handed to the SMTP server, by kind (payment, dunning, notice, welcome)',
      labelNames: ['kind'],
      registers,
    }),
    // Reconcile answers no one: these are how an operator learns that deliveries go missing or that it stopped.
    reconcileEventsStarted: new Counter({
      name: 'stripe_reconcile_events_started_total',
      help: 'Events Stripe listed that had not reached the webhook (or were not accepted), started by reconcile',
      registers,
    }),
    reconcileFailedAccounts: new Gauge({
      name: 'stripe_reconcile_failed_accounts',
      help: 'Connected accounts whose events the last reconcile run could not list',
      registers,
    }),
    reconcileFinished: new Gauge({
      name: 'stripe_reconcile_last_finished_timestamp_seconds',
      help: 'When a reconcile run last listed the platform\'s events to the end (Unix seconds)',
      registers,
    }),
  };
}
