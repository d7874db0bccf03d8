import http, { type Server } from 'node:http';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities } from '../../activities';
import { createApi, createInternalApi } from '../http/app';
import { ensureReconcileSchedule, reconcileEvents } from '../intake/reconcile';
import { ensureFinanceDigestSchedule } from '../platform/finance-digest-schedule';
import type { Config } from '../platform/config';
import { createDb, type DatabaseSettings } from '../platform/db';
import type { Running } from '../platform/lifecycle';
import { countingMailer, createMailer, type Mailer } from '../platform/mailer';
import { createMetrics, type Metrics } from '../platform/metrics';
import { createStripeClient } from '../platform/stripe-client';
import { connectionOptions, createTemporalClient, ensureSearchAttributes } from '../platform/temporal-client';
import { addDatabaseGauges } from '../store/gauges';
import { pruneDeliveries } from '../store/deliveries';
import { bundleWorkflowsInChild } from './workflow-bundle';
import { migrateAtStartup, startupStep } from './startup-steps';

export interface RunningApi extends Running {
  server: Server;
  url: string;
  /** Where the admin API and /metrics are served: `url`, or the internal listener (ADMIN_PORT). */
  adminUrl: string;
}

export interface ApiOptions {
  /** Shared with the worker when both run in one process (`npm start`). */
  metrics?: Metrics;
}

function databaseSettings(config: Config): DatabaseSettings {
  return {
    connectMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    statementMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    idleInTransactionMs: config.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    idleMs: config.DATABASE_IDLE_TIMEOUT_MS,
    preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
  };
}

export async function startApi(config: Config, log: Logger, options: ApiOptions = {}): Promise<RunningApi> {
  const db = createDb(config.DATABASE_URL!, config.DATABASE_POOL_SIZE, databaseSettings(config));
  await migrateAtStartup(config.DATABASE_URL!, log);
  const temporal = createTemporalClient(config);
  const metrics = options.metrics ?? createMetrics();
  addDatabaseGauges(metrics, db, config.LEDGER_IMBALANCE_CHECK_MS);
  const state = { draining: false };
  const deps = { db, temporal, config, log, metrics, stripe: createStripeClient(config), state };
  const server = await listen(createApi(deps).callback(), config.PORT);
  const port = (server.address() as { port: number }).port;
  const internal = config.ADMIN_PORT === undefined ? undefined : await listen(createInternalApi(deps).callback(), config.ADMIN_PORT, config.ADMIN_HOST);
  const url = `http://localhost:${port}`;
  const prune = () =>
    pruneDeliveries(db, config.WEBHOOK_DELIVERY_RETENTION_DAYS).catch((err: Error) =>
      log.warn({ err: { message: err.message } }, 'could not prune the webhook delivery log'),
    );
  void prune();
  const pruning = setInterval(prune, 3_600_000).unref();
  let stopped: Promise<void> | undefined;
  const stop = async () => {
    clearInterval(pruning);
    // Readiness fails first, so a load balancer stops sending before the listener closes.
    state.draining = true;
    if (config.SHUTDOWN_DRAIN_MS > 0) await new Promise((resolve) => setTimeout(resolve, config.SHUTDOWN_DRAIN_MS));
    await Promise.all([server, internal].map((listener) => listener && new Promise<void>((resolve) => listener.close(() => resolve()))));
    await temporal.connection.close();
    await db.end();
  };
  return {
    name: 'api',
    server,
    url,
    adminUrl: internal ? `http://${config.ADMIN_HOST}:${(internal.address() as { port: number }).port}` : url,
    stop: () => (stopped ??= stop()),
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
  const db = createDb(config.DATABASE_URL!, config.DATABASE_POOL_SIZE, databaseSettings(config));
  await migrateAtStartup(config.DATABASE_URL!, log);
  const stripe = createStripeClient(config);
  const connection = await startupStep(`use Temporal at ${config.TEMPORAL_ADDRESS} (TEMPORAL_ADDRESS)`, async () => {
    const client = createTemporalClient(config);
    try {
      await ensureSearchAttributes(client, config.TEMPORAL_NAMESPACE);
      if (stripe) await ensureReconcileSchedule(client, config.TEMPORAL_TASK_QUEUE);
      await ensureFinanceDigestSchedule(client, config.TEMPORAL_TASK_QUEUE, config.FINANCE_DIGEST_CRON);
    } finally {
      await client.connection.close();
    }
    return NativeConnection.connect(connectionOptions(config));
  });

  const metrics = options.metrics ?? createMetrics();
  const smtp = createMailer(config.SMTP_URL!, { timeoutMs: config.SMTP_TIMEOUT_MS, requireTLS: config.SMTP_REQUIRE_TLS });
  const mailer = countingMailer(options.mailer ?? smtp, metrics);
  const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    ...(config.WORKER_MAX_CONCURRENT_TASKS !== undefined && {
      maxConcurrentWorkflowTaskExecutions: config.WORKER_MAX_CONCURRENT_TASKS,
      maxConcurrentLocalActivityExecutions: config.WORKER_MAX_CONCURRENT_TASKS,
    }),
    activities: createActivities({
      db,
      mailer,
      config,
      temporal,
      stripe,
      metrics,
      log,
      reconcile: stripe
        ? async () => {
            const result = await reconcileEvents({ db, temporal, config, stripe, log, metrics });
            return { listed: result.listed, started: result.started.length, failedAccounts: result.failedAccounts.length };
          }
        : undefined,
    }),
    workflowBundle: options.workflowBundle ?? (await bundleWorkflowsInChild()),
  });
  let metricsServer: Server | undefined;
  if (config.WORKER_METRICS_PORT !== undefined) {
    addDatabaseGauges(metrics, db, config.LEDGER_IMBALANCE_CHECK_MS);
    metricsServer = await listen(async (req, res) => {
      // For a container healthcheck: the worker still polls its task queue.
      if (req.url === '/healthz') {
        const state = worker.getState();
        return void res.writeHead(state === 'RUNNING' ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ state }));
      }
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

function listen(handler: http.RequestListener, port: number, host?: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer(handler);
    server.listen(port, host, () => resolve(server)).on('error', reject);
  });
}

