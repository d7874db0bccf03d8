import { randomBytes } from 'node:crypto';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import { loadConfig, type Config } from '../../src/platform/config';
import type { DestinationStream } from 'pino';
import { createLogger } from '../../src/platform/log';
import { createMetrics } from '../../src/platform/metrics';
import type { Mailer } from '../../src/platform/mailer';
import { startApi, startWorker, type RunningApi, type RunningWorker } from '../../src/main/processes';
import { createTestDatabase, type TestDatabase } from './database';
import { startTestSmtp, type TestSmtp } from './smtp';
import type { StripeEvent } from '../../src/platform/stripe-event';
import { deliver, rotatedSecret, testSecret } from './stripe-events';
import { until } from './until';
import { reconcileScheduleId } from '../../src/intake/reconcile';
import { financeDigestScheduleId } from '../../src/platform/finance-digest-schedule';

export const testAdminKey = 'test-admin-key-8KqZ3vN1xWc7RbT5yLp0HdF9sJ2mGe4A';
/** May only read (ADMIN_READ_API_KEY). */
export const testReadKey = 'test-read-key-Vh6Nq2Zr8Lx4Tc1Wb9Jm3Pk7Fs5Dy0Gu';

let bundle: Promise<WorkflowBundle> | undefined;

/** The workflow bundle, built once per test file (jest gives each file its own modules). */
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietBundlerLogger });
  return bundle;
}

const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (message: string) => console.error(message),
};

export interface TestService {
  url: string;
  /** The SMTP server the worker sends to; tests read the messages from it. */
  smtp: TestSmtp;
  config: Config;
  database: TestDatabase;
  temporal: Client;
  api: RunningApi;
  worker?: RunningWorker;
  stop(): Promise<void>;
}

export function testConfig(database: TestDatabase, overrides: Record<string, string> = {}): Config {
  return loadConfig(
    {
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
      TEMPORAL_TASK_QUEUE: `test-${randomBytes(6).toString('hex')}`,
      STRIPE_WEBHOOK_SECRET: `${testSecret},${rotatedSecret}`,
      // Nothing listens here; startTestService points it at a test SMTP server.
      SMTP_URL: 'smtp://127.0.0.1:1',
      ADMIN_API_KEY: testAdminKey,
      ADMIN_READ_API_KEY: testReadKey,
      PORT: '0',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...overrides,
    },
    'worker',
  );
}

/** The API and a worker on a fresh database and a task queue of their own. */
export interface TestServiceOptions {
  overrides?: Record<string, string>;
  worker?: boolean;
  mailer?: (smtpUrl: string) => Mailer;
  /** Addresses the test SMTP server refuses for good (550). */
  rejectRecipients?: string[];
  /** Receives every log line of the API and the worker (set LOG_LEVEL in overrides). */
  logDestination?: DestinationStream;
  /** How the service reaches its test database (e.g. through a proxy that can stall it). */
  databaseUrl?: (url: string) => string;
  /** The database of a service stopped before, as after a restart with other settings (its owner drops it). */
  database?: TestDatabase;
}

export async function startTestService(options: TestServiceOptions = {}): Promise<TestService> {
  const smtp = await startTestSmtp({ rejectRecipients: options.rejectRecipients });
  const database = options.database ?? (await createTestDatabase());
  const config = testConfig(database, { SMTP_URL: smtp.url, DATABASE_URL: options.databaseUrl?.(database.url) ?? database.url, ...options.overrides });
  const log = createLogger(config.LOG_LEVEL, options.logDestination);
  // One process, as with `npm start`: the API's /metrics shows the worker's counters too.
  const metrics = createMetrics();
  const worker =
    options.worker === false
      ? undefined
      : await startWorker(config, log, {
          workflowBundle: await workflowBundle(),
          mailer: options.mailer?.(smtp.url),
          metrics,
        });
  const api = await startApi(config, log, { metrics });
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  if (worker) await pauseSchedules(temporal, config);
  return {
    url: api.url,
    smtp,
    config,
    database,
    temporal,
    api,
    worker,
    async stop() {
      await api.stop();
      await worker?.stop();
      await connection.close();
      if (!options.database) await database.drop();
      await smtp.stop();
    },
  };
}

/**
 * Schedules fire on the wall clock, and test files share one Temporal server: at the top of an
 * hour a reconcile would start stripe-mock's one event (the same id in every file) on its own
 * task queue, so another file reconciling it later finds it taken; at 06:00 every service would
 * email finance a digest. Tests trigger a schedule when they want a run (a pause does not stop that).
 */
async function pauseSchedules(temporal: Client, config: Config): Promise<void> {
  const queue = config.TEMPORAL_TASK_QUEUE;
  const scheduleIds = [
    ...(config.FINANCE_DIGEST_CRON === 'off' ? [] : [financeDigestScheduleId(queue)]),
    ...(config.STRIPE_SECRET_KEY ? [reconcileScheduleId(queue)] : []),
  ];
  await Promise.all(scheduleIds.map((scheduleId) => temporal.schedule.getHandle(scheduleId).pause('tests trigger schedules themselves')));
}

/** Whether any execution exists for this workflow id. */
export async function workflowExists(temporal: Client, workflowId: string): Promise<boolean> {
  try {
    await temporal.workflow.getHandle(workflowId).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** Every execution (all runs) that carries this workflow id, once visibility shows any. */
export async function countExecutions(temporal: Client, workflowId: string): Promise<number> {
  const deadline = Date.now() + 5000;
  for (;;) {
    let count = 0;
    for await (const _ of temporal.workflow.list({ query: `WorkflowId = '${workflowId}'` })) count += 1;
    // Visibility is updated asynchronously; wait for it rather than read a stale zero.
    if (count > 0 || Date.now() > deadline) return count;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The events of an execution's history, in order. */
export async function historyOf(service: TestService, workflowId: string): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  return (await service.temporal.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
}

/** The activity type of each local activity in a run, in order (failed attempts included). */
export async function localActivitiesOf(service: TestService, workflowId: string): Promise<string[]> {
  return (await historyOf(service, workflowId)).flatMap((e) => {
    const details = e.markerRecordedEventAttributes?.markerName === 'core_local_activity' ? e.markerRecordedEventAttributes.details?.data?.payloads?.[0]?.data : undefined;
    return details ? [JSON.parse(Buffer.from(details).toString()).activity_type as string] : [];
  });
}

/** A marker `patched()` recorded: Temporal's own bookkeeping, not a step of the business process. */
export const isPatchMarker = (event: temporal.api.history.v1.IHistoryEvent) => event.markerRecordedEventAttributes?.markerName === 'core_patch';

export async function eventStatusWhenDone(service: TestService, eventId: string): Promise<string> {
  await service.temporal.workflow.getHandle(eventId).result().catch(() => undefined);
  const status = async () => (await service.database.db.query('SELECT status FROM stripe_events WHERE id = $1', [eventId])).rows[0]?.status;
  // Asking for the result can fail before the run is visible (a busy server on PostgreSQL): then
  // wait for the row to reach a final status rather than read it mid-way.
  await until(async () => ['processed', 'failed', 'ignored'].includes(await status()), 10_000);
  return status();
}

/**
 * Delivers an event twice, concurrently (as Stripe may), and waits until it is processed.
 * Every test of an effect goes through here, so each also proves nothing doubles.
 */
export async function deliverTwiceAndWait(service: TestService, event: StripeEvent): Promise<void> {
  const answers = await Promise.all([deliver(service.url, event), deliver(service.url, event)]);
  expect(answers.map((a) => a.status)).toEqual([200, 200]);
  const status = await eventStatusWhenDone(service, event.id);
  // A failure names the event and its error, so a random history's failure can be read.
  if (status !== 'processed') {
    const { rows } = await service.database.db.query('SELECT last_error FROM stripe_events WHERE id = $1', [event.id]);
    expect({ event: `${event.type} ${event.id}`, status, error: rows[0]?.last_error }).toEqual({ event: `${event.type} ${event.id}`, status: 'processed', error: null });
  }
}

/** Calls the admin API with the test key (or the given authorization header). */
export async function admin(
  service: Pick<TestService, 'url'> & { api?: Pick<RunningApi, 'adminUrl'> },
  path: string,
  options: { method?: string; body?: unknown; authorization?: string | null; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any; retryAfter?: string }> {
  const authorization = options.authorization === undefined ? `Bearer ${testAdminKey}` : options.authorization;
  const response = await fetch(`${service.api?.adminUrl ?? service.url}/admin${path}`, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(authorization === null ? {} : { authorization }),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
    retryAfter: response.headers.get('retry-after') ?? undefined,
  };
}
