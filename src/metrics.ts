import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  webhookRequests: Counter<'outcome'>;
  webhookAckSeconds: Histogram<'outcome'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    webhookRequests: new Counter({
      name: 'stripe_webhook_requests_total',
      help: 'Webhook requests by outcome (accepted, duplicate, or the error code)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    webhookAckSeconds: new Histogram({
      name: 'stripe_webhook_ack_seconds',
      help: 'Time from receiving a webhook request to answering it',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}
