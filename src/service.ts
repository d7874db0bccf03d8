import type { Server } from 'node:http';
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities } from '../activities';
import { createApi } from './api';
import type { Config } from './config';
import { createDb, migrate } from './db';
import { createMailer } from './mailer';
import { createMetrics } from './metrics';
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

export async function startApi(config: Config, log: Logger): Promise<RunningApi> {
  const db = createDb(config.DATABASE_URL!, config.DATABASE_POOL_SIZE);
  await migrate(config.DATABASE_URL!, log);
  const temporal = createTemporalClient(config);
  const app = createApi({ db, temporal, config, log, metrics: createMetrics() });
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(config.PORT, () => resolve(listening)).on('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
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
  await client.connection.close();

  const smtp = createMailer(config.SMTP_URL!);
  const mailer = options.mailer ?? smtp;
  const connection = await NativeConnection.connect(connectionOptions(config));
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    activities: createActivities({
      db,
      mailer,
      config,
      temporal: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }),
      stripe: createStripeClient(config),
    }),
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
  });
  const done = worker.run();
  log.info({ taskQueue: config.TEMPORAL_TASK_QUEUE }, 'worker running');
  return {
    name: 'worker',
    worker,
    done,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done.catch((err: Error) => log.error({ err }, 'worker stopped with an error'));
      await connection.close();
      smtp.close();
      await db.end();
    },
  };
}

/**
 * Sends the Temporal SDK's own log lines (warnings and up) through pino. Once per process.
 * The SDK's own signal handling is turned off: stopOnSignals stops the parts in order.
 */
export function installTemporalRuntime(log: Logger): void {
  Runtime.install({
    shutdownSignals: [],
    logger: new DefaultLogger('WARN', (entry) => {
      const level = entry.level === 'ERROR' ? 'error' : 'warn';
      log[level]({ temporal: entry.meta }, entry.message);
    }),
  });
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
