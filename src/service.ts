import http, { type Server } from 'node:http';
import { Client, ScheduleAlreadyRunning } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities } from '../activities';
import { createApi } from './api';
import type { Config } from './config';
import { createDb, migrate } from './db';
import { createMailer } from './mailer';
import { addDatabaseGauges, createMetrics, type Metrics } from './metrics';
import type { Mailer } from './outbox';
import { createStripeClient } from './stripe-client';
import { connectionOptions, createTemporalClient, ensureSearchAttributes } from './temporal';

/** A running part of the service and how to stop it cleanly. */
export interface Running {
  name: string;
  stop(): Promise<void>;
}

export interface RunningApi extends Running {
  server: Server;
  url: string;
}

export interface ApiOptions {
  /** Shared with the worker when both run in one process (`npm start`). */
  metrics?: Metrics;
}

export async function startApi(config: Config, log: Logger, options: ApiOptions = {}): Promise<RunningApi> {
  const db = createDb(config.DATABASE_URL!, config.DATABASE_POOL_SIZE);
  await migrate(config.DATABASE_URL!, log);
  const temporal = createTemporalClient(config);
  const metrics = options.metrics ?? createMetrics();
  addDatabaseGauges(metrics, db);
  const app = createApi({ db, temporal, config, log, metrics, stripe: createStripeClient(config) });
  const server = await listen(app.callback(), config.PORT);
  const port = (server.address() as { port: number }).port;
  return {
    name: 'api',
    server,
    url: `http://localhost:${port}`,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await temporal.connection.close();
      await db.end();
    },
  };
}

export interface WorkerOptions {
  /** Tests bundle the workflows once per file and pass the bundle in. */
  workflowBundle?: WorkflowBundle;
  /** Replaces the SMTP mailer (tests inject faults with it). */
  mailer?: Mailer;
  metrics?: Metrics;
}

export interface RunningWorker extends Running {
  worker: Worker;
  /** Settles when the worker stops; rejects when it fails. */
  done: Promise<void>;
}

export async function startWorker(config: Config, log: Logger, options: WorkerOptions = {}): Promise<RunningWorker> {
  const db = createDb(config.DATABASE_URL!, config.DATABASE_POOL_SIZE);
  await migrate(config.DATABASE_URL!, log);
  const client = createTemporalClient(config);
  await ensureSearchAttributes(client, config.TEMPORAL_NAMESPACE);
  const stripe = createStripeClient(config);
  if (stripe) await ensureReconcileSchedule(client, config.TEMPORAL_TASK_QUEUE);
  await client.connection.close();

  const metrics = options.metrics ?? createMetrics();
  const smtp = createMailer(config.SMTP_URL!);
  const mailer = countingMailer(options.mailer ?? smtp, metrics);
  const connection = await NativeConnection.connect(connectionOptions(config));
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    activities: createActivities({
      db,
      mailer,
      config,
      temporal: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }),
      stripe,
      metrics,
      log,
    }),
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
  });
  let metricsServer: Server | undefined;
  if (config.WORKER_METRICS_PORT !== undefined) {
    addDatabaseGauges(metrics, db);
    metricsServer = await listen(async (req, res) => {
      if (req.url !== '/metrics') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(await metrics.registry.metrics());
    }, config.WORKER_METRICS_PORT);
  }
  const done = worker.run();
  let stopped: Promise<void> | undefined;
  log.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, metricsPort: config.WORKER_METRICS_PORT }, 'worker running');
  return {
    name: 'worker',
    worker,
    done,
    stop() {
      // Once, however often it is asked (a signal during a stop, a test that stopped it already).
      stopped ??= (async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await done.catch((err: Error) => log.error({ err }, 'worker stopped with an error'));
        if (metricsServer) await new Promise((resolve) => metricsServer.close(resolve));
        await connection.close();
        smtp.close();
        await db.end();
      })();
      return stopped;
    },
  };
}

function listen(handler: http.RequestListener, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer(handler);
    server.listen(port, () => resolve(server)).on('error', reject);
  });
}

/** Counts every email the SMTP server accepted, by the kind its outbox key starts with. */
function countingMailer(mailer: Mailer, metrics: Metrics): Mailer {
  return {
    async sendMail(message) {
      const sent = await mailer.sendMail(message);
      metrics.emailsSent.inc({ kind: /^<(\w+)/.exec(message.messageId)?.[1] ?? 'other' });
      return sent;
    },
  };
}

export function reconcileScheduleId(taskQueue: string): string {
  return `stripe-reconcile-${taskQueue}`;
}

/** Hourly reconcile against Stripe's events API; created once, kept when it already exists. */
async function ensureReconcileSchedule(client: Client, taskQueue: string): Promise<void> {
  try {
    await client.schedule.create({
      scheduleId: reconcileScheduleId(taskQueue),
      spec: { intervals: [{ every: '1h' }] },
      action: { type: 'startWorkflow', workflowType: 'reconcileStripeEvents', taskQueue, args: [] },
      policies: { overlap: 'SKIP' },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
}

/**
 * Sends the Temporal SDK's own log lines (warnings and up) through pino. Once per process.
 * The SDK's own signal handling is turned off: stopOnSignals stops the parts in order.
 */
export function installTemporalRuntime(log: Logger, config: Pick<Config, 'TEMPORAL_SDK_METRICS_ADDRESS'> = {}): void {
  Runtime.install({
    shutdownSignals: [],
    logger: new DefaultLogger(temporalLogLevel(log.level), (entry) => {
      const { workflowId, ...meta } = entry.meta ?? {};
      // The execution of an event has the event id as its workflow id: one field to search logs by.
      const ids = typeof workflowId === 'string' && workflowId.startsWith('evt_') ? { eventId: workflowId } : { workflowId };
      log[entry.level === 'TRACE' ? 'trace' : (entry.level.toLowerCase() as 'debug' | 'info' | 'warn' | 'error')](
        { ...meta, ...ids },
        entry.message,
      );
    }),
    ...(config.TEMPORAL_SDK_METRICS_ADDRESS && {
      telemetryOptions: { metrics: { prometheus: { bindAddress: config.TEMPORAL_SDK_METRICS_ADDRESS } } },
    }),
  });
}

function temporalLogLevel(level: string): 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' {
  if (level === 'trace' || level === 'debug') return level.toUpperCase() as 'TRACE' | 'DEBUG';
  if (level === 'info') return 'INFO';
  if (level === 'warn') return 'WARN';
  return 'ERROR';
}

/** Stops everything on SIGINT / SIGTERM, in the reverse order of starting. */
export function stopOnSignals(log: Logger, parts: Running[]): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    for (const part of [...parts].reverse()) {
      await part.stop().catch((err: Error) => log.error({ err, part: part.name }, 'error while stopping'));
      log.info({ part: part.name }, 'stopped');
    }
    process.exit(0);
  };
  // `on`, not `once`: Ctrl-C reaches us twice (from the terminal and relayed by tsx), and a
  // second signal without a handler would kill the process halfway through stopping.
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
