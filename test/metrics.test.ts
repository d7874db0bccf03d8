import { createMetrics } from '../src/platform/metrics';
import { insertEvent } from '../src/store/events';
import { addDatabaseGauges } from '../src/store/gauges';
import { paidInvoice } from './support/billing-events';
import { freePort } from './support/global-setup';
import { sampleValue } from './support/metrics-text';
import { deliverTwiceAndWait, eventStatusWhenDone, startTestService, type TestService } from './support/service';
import { deliver, stripeEvent, stripeObject } from './support/stripe-events';
import { startWorkerProcess, type WorkerProcess } from './support/worker-process';

// As in production: the API in one process, `npm run worker` in another.
let service: TestService;
let worker: WorkerProcess;
let workerMetricsUrl: string;
let sdkMetricsUrl: string;

beforeAll(async () => {
  service = await startTestService({ worker: false, overrides: { LEDGER_IMBALANCE_CHECK_MS: '0' } });
  const [workerPort, sdkPort] = [await freePort(), await freePort()];
  workerMetricsUrl = `http://127.0.0.1:${workerPort}/metrics`;
  sdkMetricsUrl = `http://127.0.0.1:${sdkPort}/metrics`;
  const env = { LOG_LEVEL: 'warn', WORKER_METRICS_PORT: String(workerPort), TEMPORAL_SDK_METRICS_ADDRESS: `127.0.0.1:${sdkPort}` };
  worker = await startWorkerProcess(service, env, async () => (await fetch(workerMetricsUrl)).ok);
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await service?.stop();
});

async function scrape(url: string): Promise<string> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return response.text();
}

test('when the service starts, then every metric is exposed: the API, the worker and the Temporal SDK', async () => {
  const api = await scrape(`${service.url}/metrics`);
  const own = await scrape(workerMetricsUrl);
  const sdk = await scrape(sdkMetricsUrl);

  for (const name of ['stripe_webhook_requests_total', 'stripe_webhook_ack_seconds', 'stripe_webhook_acceptance_step_seconds', 'stripe_dunning_active_cases', 'stripe_ledger_imbalance', 'stripe_events_unfinished', 'stripe_events_unfinished_oldest_seconds']) {
    expect(api).toContain(`# TYPE ${name} `);
  }
  for (const name of ['stripe_events_processed_total', 'stripe_event_processing_seconds', 'stripe_emails_sent_total', 'stripe_reconcile_events_started_total', 'stripe_reconcile_failed_accounts', 'stripe_reconcile_last_finished_timestamp_seconds']) {
    expect(own).toContain(`# TYPE ${name} `);
  }
  expect(sdk).toMatch(/^temporal_\w+/m);
});

test('when the worker polls its task queue, then /healthz on its metrics port answers 200 with its state', async () => {
  const response = await fetch(workerMetricsUrl.replace('/metrics', '/healthz'));

  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ state: 'RUNNING' });
});

test('when a paid invoice arrives twice, then requests, processed events, processing time and emails move, and the ledger stays balanced', async () => {
  const invoice = paidInvoice({ currency: 'eur', customerEmail: 'metrics@example.com' });

  await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice));

  const api = await scrape(`${service.url}/metrics`);
  const own = await scrape(workerMetricsUrl);
  expect(sampleValue(api, 'stripe_webhook_requests_total', { outcome: 'accepted' })).toBe(1);
  expect(sampleValue(api, 'stripe_webhook_requests_total', { outcome: 'duplicate' })).toBe(1);
  expect(sampleValue(api, 'stripe_webhook_ack_seconds_count', { outcome: 'accepted' })).toBe(1);
  expect(sampleValue(own, 'stripe_events_processed_total', { type: 'invoice.paid', result: 'processed' })).toBe(1);
  expect(sampleValue(own, 'stripe_event_processing_seconds_count', { type: 'invoice.paid' })).toBe(1);
  expect(sampleValue(own, 'stripe_emails_sent_total', { kind: 'payment' })).toBe(2);
  expect(sampleValue(api, 'stripe_ledger_imbalance', { currency: 'eur' })).toBe(0);
});

test('when an event is delivered, processed and delivered again, then the acceptance times the first delivery\'s steps only: the copy is answered from the process\'s memory', async () => {
  const steps = async () => {
    const api = await scrape(`${service.url}/metrics`);
    return ['lookup', 'store', 'start'].map((step) => sampleValue(api, 'stripe_webhook_acceptance_step_seconds_count', { step }) ?? 0);
  };
  const before = await steps();
  const event = stripeEvent('customer.created', stripeObject('customer', { id: `cus_steps_${Date.now()}` }));

  await deliver(service.url, event);
  await eventStatusWhenDone(service, event.id);
  await deliver(service.url, event);

  const after = await steps();
  expect(after.map((count, i) => count - before[i])).toEqual([1, 1, 1]);
});

test('when a payment fails, then the active dunning cases go up', async () => {
  const before = sampleValue(await scrape(`${service.url}/metrics`), 'stripe_dunning_active_cases') ?? 0;
  const failed = paidInvoice({ status: 'open', customerEmail: 'dunning-metrics@example.com' });

  await deliverTwiceAndWait(service, stripeEvent('invoice.payment_failed', failed));

  expect(sampleValue(await scrape(`${service.url}/metrics`), 'stripe_dunning_active_cases')).toBe(before + 1);
});

test('when a request is rejected, then it is counted by its error code', async () => {
  await deliver(service.url, stripeEvent('customer.created', stripeObject('customer')), { secret: 'whsec_forged_000000' });

  expect(sampleValue(await scrape(`${service.url}/metrics`), 'stripe_webhook_requests_total', { outcome: 'signature_invalid' })).toBe(1);
});

describe('unfinished events', () => {
  const unfinished = async () => {
    const text = await scrape(`${service.url}/metrics`);
    return {
      received: sampleValue(text, 'stripe_events_unfinished', { status: 'received' }),
      oldestReceived: sampleValue(text, 'stripe_events_unfinished_oldest_seconds', { status: 'received' }),
      processing: sampleValue(text, 'stripe_events_unfinished', { status: 'processing' }),
      oldestProcessing: sampleValue(text, 'stripe_events_unfinished_oldest_seconds', { status: 'processing' }),
    };
  };
  // Stored ten minutes ago and never started: the API died between storing it and starting its run.
  const orphan = stripeEvent('customer.updated', stripeObject('customer', { id: 'cus_unfinished_gauge' }));

  beforeAll(async () => {
    await insertEvent(service.database.db, orphan);
    await service.database.db.query(`UPDATE stripe_events SET received_at = now() - interval '10 minutes' WHERE id = $1`, [orphan.id]);
  });

  test('when an accepted event never began its run, then /metrics counts it as received, with its age', async () => {
    const gauges = await unfinished();

    expect(gauges.received).toBe(1);
    expect(gauges.oldestReceived).toBeGreaterThanOrEqual(600);
    expect(gauges.oldestReceived).toBeLessThan(700);
    expect([gauges.processing, gauges.oldestProcessing]).toEqual([0, 0]);
  });

  test('when Stripe delivers that event again, then it is processed and no longer counted', async () => {
    await deliverTwiceAndWait(service, orphan);

    expect(await unfinished()).toEqual({ received: 0, oldestReceived: 0, processing: 0, oldestProcessing: 0 });
  });
});

test('when the API and the worker share one process and registry, then the database gauges exist once', async () => {
  const metrics = createMetrics();

  addDatabaseGauges(metrics, service.database.db, 0);
  addDatabaseGauges(metrics, service.database.db, 0);

  const text = await metrics.registry.metrics();
  expect(text.match(/^# TYPE stripe_dunning_active_cases gauge$/gm)).toHaveLength(1);
});

test('when /metrics is scraped again within the ledger check interval, then the whole ledger is summed only once', async () => {
  const metrics = createMetrics();
  const sums: string[] = [];
  const db = service.database.db;
  const counting = {
    query: (sql: string, ...rest: unknown[]) => {
      if (sql.includes('ledger_lines')) sums.push(sql);
      return (db.query as (...args: unknown[]) => unknown)(sql, ...rest);
    },
  } as unknown as typeof db;
  addDatabaseGauges(metrics, counting, 60_000);

  await metrics.registry.metrics();
  await metrics.registry.metrics();
  const text = await metrics.registry.metrics();

  expect(sums).toHaveLength(1);
  expect(text).toContain('stripe_ledger_imbalance{currency="eur"} 0');
});
