import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from './db';

/** One set per process; the API and the worker share it when they run in one process (`npm start`). */
export interface Metrics {
  registry: Registry;
  webhookRequests: Counter<'outcome'>;
  webhookAckSeconds: Histogram<'outcome'>;
  eventsProcessed: Counter<'type' | 'result'>;
  eventProcessingSeconds: Histogram<'type'>;
  emailsSent: Counter<'kind'>;
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
  };
}

/**
 * State read from PostgreSQL at scrape time, so every process that can reach the database
 * reports the same truth. While the database is away they keep their last value, so that
 * /metrics itself still answers (and `/readyz` tells what is wrong).
 */
export function addDatabaseGauges(metrics: Metrics, db: Db): void {
  // Once per registry: the API and the worker share one in a single process.
  if (metrics.registry.getSingleMetric('stripe_dunning_active_cases')) return;
  new Gauge({
    name: 'stripe_dunning_active_cases',
    help: 'Unpaid invoices whose dunning is running',
    registers: [metrics.registry],
    async collect() {
      const rows = await rowsOrNothing<{ count: number }>(db, `SELECT count(*)::int AS count FROM dunning_cases WHERE status = 'open'`);
      if (rows) this.set(rows[0].count);
    },
  });
  new Gauge({
    name: 'stripe_ledger_imbalance',
    help: 'Debits minus credits over the whole ledger, per currency, in minor units; anything but 0 is a bug',
    labelNames: ['currency'],
    registers: [metrics.registry],
    async collect() {
      const rows = await rowsOrNothing<{ currency: string; imbalance: number }>(
        db,
        `SELECT currency, (sum(debit) - sum(credit))::float8 AS imbalance FROM ledger_lines GROUP BY currency`,
      );
      if (!rows) return;
      this.reset();
      for (const row of rows) this.set({ currency: row.currency }, row.imbalance);
    },
  });
}

async function rowsOrNothing<Row extends object>(db: Db, sql: string): Promise<Row[] | undefined> {
  try {
    return (await db.query<Row>(sql)).rows;
  } catch {
    return undefined;
  }
}
