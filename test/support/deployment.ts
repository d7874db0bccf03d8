import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  projectRoot,
  startEmbeddedPostgres,
  startTemporalDevServer,
  type EmbeddedPostgresServer,
  type EmbeddedTemporal,
} from '../../src/dev/embedded';
import { spawnWithCpuShare } from '../../src/dev/child-process';
import { startTemporalCluster } from '../../src/dev/temporal-cluster';
import { freePort, freePortRange } from './global-setup';
import { imageNodeOptions } from './image';
import { buildForProduction, type ServicePart } from './production-build';
import { startCountingSmtp, type CountingSmtp } from './smtp';
import { testSecret } from './stripe-events';

/**
 * The service deployed as in production, on one machine: the API and the worker as separate
 * supervised processes (by default the build, as the image runs them), embedded PostgreSQL, the
 * Temporal engine and an SMTP server that counts what it receives. The chaos run and the
 * benchmark use it. The engine is the dev server with a SQLite file, or with ENGINE=cluster the
 * Temporal server keeping its state in the same PostgreSQL (4 history shards), as a production
 * deployment runs it.
 */
export type Engine = 'dev' | 'cluster';

/** One of `choices` from the variable `name`; the first when it is unset or empty. */
function choiceOf<T extends string>(env: NodeJS.ProcessEnv, name: string, choices: readonly [T, ...T[]]): T {
  const value = env[name];
  if (value === undefined || value === '') return choices[0];
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new Error(`${name} must be ${choices.join(' or ')}, not ${JSON.stringify(value)}`);
}

export function engineOf(env: NodeJS.ProcessEnv): Engine {
  return choiceOf(env, 'ENGINE', ['dev', 'cluster']);
}

/**
 * What the API and the worker run: `build`, the compiled JavaScript with node, as the image runs
 * them (built once per deployment); `source`, the TypeScript through tsx, as `npm run api` and
 * `npm run worker` do.
 */
export type ServiceCode = 'build' | 'source';

export function serviceCodeOf(env: NodeJS.ProcessEnv): ServiceCode {
  return choiceOf(env, 'SERVICE_CODE', ['build', 'source']);
}

/**
 * Node's options for the API and the worker: the image's (its heap limits), so that they run
 * here as in production; SERVICE_NODE_OPTIONS replaces them (empty: Node's own defaults).
 */
export function serviceNodeOptionsOf(env: NodeJS.ProcessEnv): string {
  return env.SERVICE_NODE_OPTIONS ?? imageNodeOptions();
}

/**
 * The worker's CPU share below the API's, as docker-compose.yml's `cpu_shares` and `npm run
 * cluster` give it: SERVICE_WORKER_NICE (0 to 19), 10 by default; 0 runs it beside the API as an
 * equal.
 */
export function serviceWorkerNiceOf(env: NodeJS.ProcessEnv): number {
  const value = env.SERVICE_WORKER_NICE ?? '10';
  if (!/^\d+$/.test(value) || Number(value) > 19) throw new Error(`SERVICE_WORKER_NICE must be a whole number from 0 to 19, not ${JSON.stringify(value)}`);
  return Number(value);
}

export interface Deployment {
  dir: string;
  apiUrl: string;
  workerMetricsUrl: string;
  databaseUrl: string;
  temporalAddress: string;
  /** The Temporal server's own Prometheus metrics. */
  engineMetricsUrl: string;
  /** The task queue the worker polls. */
  taskQueue: string;
  smtp: CountingSmtp;
  api: ServiceProcess;
  worker: ServiceProcess;
  /** The environment the API and worker run with. */
  env: NodeJS.ProcessEnv;
  /** The process of each part as it runs now (a restart changes them), for the bench's CPU count. */
  pids(): Record<'api' | 'worker' | 'engine' | 'postgres', number | undefined>;
  restartPostgres(): Promise<void>;
  restartTemporal(): Promise<void>;
  stop(): Promise<void>;
}

export async function startDeployment(options: {
  name: string;
  engine?: Engine;
  /** The build by default. */
  code?: ServiceCode;
  env?: Record<string, string>;
  /** The dev server's SQLite pragmas; the embedded default when omitted. */
  sqlitePragmas?: string[];
}): Promise<Deployment> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `stripe-workflows-${options.name}-`));
  // As root, embedded PostgreSQL runs as `postgres`, which must reach its directory.
  fs.chmodSync(dir, 0o755);
  const engine = options.engine ?? 'dev';
  const ports = {
    postgres: await freePort(),
    temporal: engine === 'cluster' ? await freePortRange() : await freePort(),
    api: await freePort(),
    worker: await freePort(),
    engineMetrics: await freePort(),
  };
  const build = options.code === 'source' ? undefined : await buildForProduction(path.join(dir, 'build'));
  const command = (part: ServicePart): ServiceCommand => (build ? [process.execPath, build.entry(part)] : sourceCommand(`src/main/${part}.ts`));
  let postgres: EmbeddedPostgresServer = await startEmbeddedPostgres(dir, ports.postgres);
  const startEngine = () =>
    engine === 'cluster'
      ? startTemporalCluster({ postgresUrl: postgres.url, databasePrefix: 'temporal', dataDir: dir, port: ports.temporal, shards: 4, namespace: 'default', metricsPort: ports.engineMetrics })
      : startTemporalDevServer({ dbFile: path.join(dir, 'temporal.db'), port: ports.temporal, namespace: 'default', sqlitePragmas: options.sqlitePragmas, metricsPort: ports.engineMetrics });
  let temporal: EmbeddedTemporal = await startEngine();
  const smtp = await startCountingSmtp();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NODE_OPTIONS: serviceNodeOptionsOf(process.env),
    DATABASE_URL: postgres.url,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: options.name,
    SMTP_URL: smtp.url,
    STRIPE_WEBHOOK_SECRET: testSecret,
    FINANCE_EMAIL: 'finance@example.com',
    LOG_LEVEL: 'warn',
    ...options.env,
  };
  const apiUrl = `http://127.0.0.1:${ports.api}`;
  const workerMetricsUrl = `http://127.0.0.1:${ports.worker}/metrics`;
  const api = serviceProcess({
    name: 'api',
    command: command('api'),
    env: { ...env, PORT: String(ports.api) },
    logFile: path.join(dir, 'api.log'),
    ready: async () => (await fetch(`${apiUrl}/healthz`)).ok,
  });
  const worker = serviceProcess({
    name: 'worker',
    command: command('worker'),
    nice: serviceWorkerNiceOf(process.env),
    env: { ...env, WORKER_METRICS_PORT: String(ports.worker) },
    logFile: path.join(dir, 'worker.log'),
    ready: async () => (await fetch(workerMetricsUrl)).ok,
  });
  try {
    await Promise.all([api.start(), worker.start()]);
  } catch (err) {
    // A part that never became ready must not leave the others running after the run ends.
    await Promise.allSettled([api.stop(), worker.stop()]);
    await smtp.stop();
    await temporal.stop();
    await postgres.stop();
    throw err;
  }
  return {
    dir,
    apiUrl,
    workerMetricsUrl,
    databaseUrl: postgres.url,
    temporalAddress: temporal.address,
    engineMetricsUrl: `http://127.0.0.1:${ports.engineMetrics}/metrics`,
    taskQueue: options.name,
    smtp,
    api,
    worker,
    env,
    pids: () => ({ api: api.pid(), worker: worker.pid(), engine: temporal.pid, postgres: postgres.pid }),
    async restartPostgres() {
      await postgres.stop();
      postgres = await startEmbeddedPostgres(dir, ports.postgres);
    },
    async restartTemporal() {
      await temporal.stop();
      temporal = await startEngine();
    },
    async stop() {
      await Promise.all([api.stop(), worker.stop()]);
      await smtp.stop();
      await temporal.stop();
      await postgres.stop();
    },
  };
}

/**
 * `npm run api` / `npm run worker` as a supervised child process, the way a process manager
 * runs them: restarted when it dies unexpectedly, killable with SIGKILL on purpose.
 */
export interface ServiceProcess {
  name: string;
  /** Unplanned exits the supervisor recovered from. */
  crashes: number;
  /** Its process while it runs. */
  pid(): number | undefined;
  start(): Promise<void>;
  /** SIGKILL to the whole process group, then start again. */
  killAndRestart(): Promise<void>;
  stop(): Promise<void>;
}

/** The program and its script: node and a built file, or tsx and a TypeScript file. */
export type ServiceCommand = [program: string, script: string];

/** A TypeScript entry point run through tsx, as the npm scripts run it. */
export function sourceCommand(entry: string): ServiceCommand {
  return [path.join(projectRoot, 'node_modules', '.bin', 'tsx'), entry];
}

export function serviceProcess(options: {
  name: string;
  command: ServiceCommand;
  env: NodeJS.ProcessEnv;
  logFile: string;
  ready: () => Promise<boolean>;
  /** Its CPU share below the others' (`spawnWithCpuShare`). */
  nice?: number;
}): ServiceProcess {
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stopping = false;
  const log = fs.openSync(options.logFile, 'a');

  const spawnChild = () => {
    const [program, script] = options.command;
    const profile = process.env.PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', path.join(process.env.PROF_DIR, options.name)] : [];
    child = spawnWithCpuShare(options.nice ?? 0, program, [...profile, script], {
      cwd: projectRoot,
      env: options.env,
      stdio: ['ignore', log, log],
      // Its own group: a SIGKILL reaches tsx and the node process it runs alike.
      detached: true,
    });
    const current = child;
    exited = new Promise((resolve) =>
      current.once('exit', () => {
        resolve();
        if (!stopping && current === child) {
          self.crashes += 1;
          setTimeout(() => {
            if (stopping || current !== child) return;
            self.start().catch((err: Error) => console.error(`chaos: ${options.name} did not come back: ${err.message}`));
          }, 500);
        }
      }),
    );
  };

  const killGroup = async (signal: NodeJS.Signals) => {
    const current = child;
    if (!current?.pid || current.exitCode !== null || current.signalCode !== null) return;
    child = undefined;
    try {
      process.kill(-current.pid, signal);
    } catch {
      // Already gone.
    }
    await exited;
  };

  const self: ServiceProcess = {
    name: options.name,
    crashes: 0,
    pid: () => child?.pid,
    async start() {
      spawnChild();
      const deadline = Date.now() + 90_000;
      while (!(await options.ready().catch(() => false))) {
        if (Date.now() > deadline) throw new Error(`${options.name} did not become ready; see ${options.logFile}`);
        await sleep(200);
      }
    },
    async killAndRestart() {
      await killGroup('SIGKILL');
      await self.start();
    },
    async stop() {
      stopping = true;
      await killGroup('SIGTERM');
      fs.closeSync(log);
    },
  };
  return self;
}
