import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import path from 'node:path';
import { createDb, type Db } from '../../src/platform/db';
import { projectRoot, temporalCliPath } from '../../src/dev/embedded';
import { buildWorkload, type WorkloadMix } from '../chaos/workload';
import { paidInvoice } from '../support/billing-events';
import { engineOf, serviceCodeOf, serviceNodeOptionsOf, serviceProcess, serviceWorkerNiceOf, sourceCommand, startDeployment, type Deployment } from '../support/deployment';
import { freePort } from '../support/global-setup';
import { sampleValue } from '../support/metrics-text';
import { stripeEvent } from '../support/stripe-events';
import { acceptanceTable, baselineSeries, capacity, cpuTable, engineTable, serviceSeries, stepsInTurns, stepTable, writeChart } from './capacity';
import { percentile, redeliverRefused, sendAtRate, waitForProcessed, type Sent } from './load';

/**
 * `npm run bench`: the service deployed as separate API and worker processes (embedded
 * PostgreSQL, a Temporal dev server with a SQLite file), loaded with realistic signed events
 * against a bare-Temporal baseline measured in the same run.
 *
 * By default it steps the offered rate (BENCH_STEPS, deliveries/s, each for BENCH_STEP_SECONDS,
 * then up to BENCH_DRAIN_SECONDS for the backlog to drain) for the service and the baseline,
 * stops each at the first step that does not drain, and writes bench-capacity.svg (with
 * ENGINE=cluster bench-capacity-cluster.svg) next to
 * BENCHMARKS.md. BENCH_MIX is `billing` (the chaos mix) or `paid-invoices`.
 * With BENCH_RATE set it runs the earlier method instead: BENCH_EVENTS at that one rate, with a
 * verify-and-store-only baseline too.
 * Both end with the worker's memory while BENCH_DUNNING (1000) dunning workflows wait on timers:
 * 2 s after the last one started, and again after BENCH_SETTLE_SECONDS (120) idle.
 * The API and the worker run the build with the image's NODE_OPTIONS, as the image runs them;
 * SERVICE_CODE=source runs the TypeScript through tsx, as `npm run api` and `npm run worker` do,
 * and SERVICE_NODE_OPTIONS replaces the options (empty: Node's defaults).
 * Also: BENCH_SQLITE_PRAGMAS (`default` for SQLite's own, else comma-separated; the embedded WAL
 * setting when unset), DATABASE_POOL_SIZE, DATABASE_IDLE_TIMEOUT_MS, WORKER_MAX_CACHED_WORKFLOWS,
 * WORKER_MAX_CONCURRENT_TASKS.
 */
const settings = {
  events: Number(process.env.BENCH_EVENTS ?? 400),
  rate: Number(process.env.BENCH_RATE ?? 10),
  fixedRate: process.env.BENCH_RATE !== undefined,
  steps: {
    rates: (process.env.BENCH_STEPS ?? '10,20,30,40,50,60,70,80,100,120,140,160').split(',').map(Number),
    windowSeconds: Number(process.env.BENCH_STEP_SECONDS ?? 15),
    drainSeconds: Number(process.env.BENCH_DRAIN_SECONDS ?? 5),
    mix: (process.env.BENCH_MIX ?? 'billing') as WorkloadMix,
  },
  dunning: Number(process.env.BENCH_DUNNING ?? 1000),
  settleSeconds: Number(process.env.BENCH_SETTLE_SECONDS ?? 120),
  engine: engineOf(process.env),
  code: serviceCodeOf(process.env),
  nodeOptions: serviceNodeOptionsOf(process.env),
  workerNice: serviceWorkerNiceOf(process.env),
  sqlitePragmas: process.env.BENCH_SQLITE_PRAGMAS === undefined ? undefined : process.env.BENCH_SQLITE_PRAGMAS === 'default' ? [] : process.env.BENCH_SQLITE_PRAGMAS.split(','),
  poolSize: process.env.DATABASE_POOL_SIZE,
  idleTimeoutMs: process.env.DATABASE_IDLE_TIMEOUT_MS,
  maxCachedWorkflows: process.env.WORKER_MAX_CACHED_WORKFLOWS,
  maxConcurrentTasks: process.env.WORKER_MAX_CONCURRENT_TASKS,
};

const ms = (value: number) => `${Math.round(value)} ms`;
const ratio = (ours: number, base: number) => `${(ours / base).toFixed(1)}×`;
const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;
const say = (line: string) => console.log(line);

async function main() {
  say(`bench: ${JSON.stringify(settings)}`);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const deployment = await startDeployment({
    name: 'bench',
    engine: settings.engine,
    code: settings.code,
    env: {
      DUNNING_SCHEDULE: '0s,1h',
      ...(settings.poolSize ? { DATABASE_POOL_SIZE: settings.poolSize } : {}),
      ...(settings.idleTimeoutMs ? { DATABASE_IDLE_TIMEOUT_MS: settings.idleTimeoutMs } : {}),
      ...(settings.maxCachedWorkflows ? { WORKER_MAX_CACHED_WORKFLOWS: settings.maxCachedWorkflows } : {}),
      ...(settings.maxConcurrentTasks ? { WORKER_MAX_CONCURRENT_TASKS: settings.maxConcurrentTasks } : {}),
    },
    sqlitePragmas: settings.sqlitePragmas,
  });
  const db = createDb(deployment.databaseUrl, 4);
  try {
    say('bench: warm-up');
    // Shaped like the steps, copies included, so that the first step finds the connections that
    // concurrent copies need already open and their path already run, as every later step does.
    const warmUp = buildWorkload(60, 0.2);
    await sendAtRate(deployment.apiUrl, warmUp.deliveries, 20);
    await waitForProcessed(db, warmUp.unique.map((e) => e.id));
    if (settings.fixedRate) await fixedRateRun(deployment, db);
    else await capacityRun(deployment, db);
  } finally {
    await db.end();
    await deployment.stop();
  }
}

function machineLine(): string {
  const engine = settings.engine === 'cluster' ? 'engine: the Temporal server on PostgreSQL (4 history shards)' : 'engine: the Temporal dev server (SQLite)';
  const code = settings.code === 'build' ? 'API and worker: the build, run with node (as the image runs them)' : 'API and worker: the TypeScript through tsx (npm run api / worker)';
  const nodeOptions = settings.nodeOptions ? `NODE_OPTIONS ${settings.nodeOptions}` : "Node's default options";
  return `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${mib(os.totalmem())} RAM, Node ${process.version}, ${temporalVersion()}; ${engine}; ${code}, ${nodeOptions}.`;
}

function settingsLine(): string {
  return `SQLite pragmas ${settings.sqlitePragmas === undefined ? 'embedded default (WAL, synchronous=normal)' : settings.sqlitePragmas.length ? settings.sqlitePragmas.join(', ') : "SQLite's defaults"}; pool ${settings.poolSize ?? 10}, idle connections ${settings.idleTimeoutMs ? `closed after ${settings.idleTimeoutMs} ms` : 'kept'}; worker cache ${settings.maxCachedWorkflows ?? 'default (100)'}; worker tasks at once ${settings.maxConcurrentTasks ?? "the SDK's (40, local activities 100)"}; worker CPU share ${settings.workerNice ? `below the API's (nice ${settings.workerNice})` : "the API's"}.`;
}

/** Steps the offered rate for the service and the baseline; capacity is the highest step that drains. */
async function capacityRun(deployment: Deployment, db: Db) {
  const { steps } = settings;
  say(`bench: the service (${steps.mix} mix) and the baseline (a bare Temporal client starting no-op workflows on the same server) in turns at each rate, ${steps.windowSeconds} s per step, drain within ${steps.drainSeconds} s`);
  const baselineRun = await baselineSeries(deployment, steps);
  const [service, baseline] = await stepsInTurns(steps, [serviceSeries(deployment, db, steps), baselineRun]).finally(() => baselineRun.close());
  const memory = await memoryOf(deployment);
  say(`bench: ${settings.dunning} dunning workflows waiting on timers`);
  const dunningMemory = await dunningWorkflows(deployment, db, settings.dunning);

  const ours = capacity(service);
  const theirs = capacity(baseline);
  const sameRate = ours && baseline.find((step) => step.offered === ours.offered);
  const chart = path.join(projectRoot, settings.engine === 'cluster' ? 'bench-capacity-cluster.svg' : 'bench-capacity.svg');
  await writeChart(chart, [
    { name: `service (${steps.mix})`, results: service },
    { name: 'baseline: no-op workflow', results: baseline },
  ], `Capacity, ${new Date().toISOString().slice(0, 10)}`);
  const lines = [
    `## Capacity run of ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    machineLine(),
    `Load: ${steps.mix} mix, steps of ${steps.windowSeconds} s at ${steps.rates.join(', ')} deliveries/s (a fifth of the events delivered twice; the baseline starts one workflow per unique event), open loop; a step counts when its backlog drains within ${steps.drainSeconds} s. ${settingsLine()}`,
    '',
    ...stepTable('service', service),
    '',
    'Inside the API, the mean time of each step of accepting an event (`stripe_webhook_acceptance_step_seconds`):',
    '',
    ...acceptanceTable(service),
    '',
    ...stepTable('baseline', baseline),
    '',
    ...tablesUnder(
      "CPU per processed event (the baseline: per no-op workflow), by process and its children, from the step's start until it drained or the drain time ran out (`/proc`):",
      [cpuTable('service', service), cpuTable('baseline', baseline)],
    ),
    ...tablesUnder("Inside the Temporal server (its own metrics), from the step's start until it drained:", [
      engineTable('service', service),
      engineTable('baseline', baseline),
    ]),
    `Capacity: service ${ours ? `${ours.offered}/s offered, ${ours.processedPerSecond.toFixed(1)} events/s processed` : 'below the first step'}; baseline ${theirs ? `${theirs.offered}/s offered, ${theirs.processedPerSecond.toFixed(1)} workflows/s` : 'below the first step'}; ratio ${ours && theirs ? (ours.offered / theirs.offered).toFixed(2) : '–'}× offered, ${ours && theirs ? (ours.processedPerSecond / theirs.processedPerSecond).toFixed(2) : '–'}× processed.`,
    sameRate && ours ? `Ack p99 at the service's capacity step (${ours.offered}/s): service ${Math.round(ours.ackP99)} ms, bare start ${Math.round(sameRate.ackP99)} ms (${ratio(ours.ackP99, sameRate.ackP99)}).` : '',
    memoryLine(memory, 'after the steps', dunningMemory),
    `Chart: ${path.relative(projectRoot, chart)}.`,
  ];
  say(['', ...lines, ''].join('\n'));
}

/** A heading and the tables under it, service and baseline; nothing where no table has rows (CPU where there is no /proc, the engine without metrics). */
function tablesUnder(heading: string, tables: string[][]): string[] {
  const shown = tables.filter((table) => table.length > 0);
  if (shown.length === 0) return [];
  return [heading, '', ...shown.flatMap((table) => [...table, ''])];
}

/** The earlier method: one fixed rate, with a verify-and-store-only baseline too. */
async function fixedRateRun(deployment: Deployment, db: Db) {
  say('bench: the service');
  const workload = buildWorkload(settings.events);
  const ours = await sendAtRate(deployment.apiUrl, workload.deliveries, settings.rate);
  await redeliverRefused(deployment.apiUrl, ours.refused.values());
  const processedAt = await waitForProcessed(db, workload.unique.map((e) => e.id));
  const endToEnd = [...processedAt].map(([id, at]) => at - ours.firstScheduled.get(id)!);
  const lastProcessed = Math.max(...processedAt.values());
  const memory = await memoryOf(deployment);

  say('bench: baseline 1, a bare Temporal client starting a no-op workflow');
  const bare = await bareTemporal(deployment, workload.unique.length, settings.rate * (workload.unique.length / workload.deliveries.length));

  say('bench: baseline 2, the webhook path storing only (Temporal replaced by nothing)');
  const storeOnly = await storeOnlyWebhook(deployment, db);

  say(`bench: ${settings.dunning} dunning workflows waiting on timers`);
  const dunningMemory = await dunningWorkflows(deployment, db, settings.dunning);

  const ack = (sent: Sent, p: number) => percentile(sent.latenciesMs, p);
  const lines = [
    `## Run of ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    machineLine(),
    `Load: ${workload.unique.length} unique events (${workload.deliveries.length} deliveries with duplicates) at ${settings.rate} deliveries/s, open loop; SQLite pragmas ${settings.sqlitePragmas === undefined ? 'embedded default (WAL, synchronous=normal)' : settings.sqlitePragmas.length ? settings.sqlitePragmas.join(', ') : "SQLite's defaults"}; pool ${settings.poolSize ?? 10}; worker cache ${settings.maxCachedWorkflows ?? 'SDK default'}.`,
    '',
    '| figure | service | baseline | ratio |',
    '| --- | --- | --- | --- |',
    `| ack p50 (vs verify + store only) | ${ms(ack(ours, 50))} | ${ms(ack(storeOnly, 50))} | ${ratio(ack(ours, 50), ack(storeOnly, 50))} |`,
    `| ack p95 (vs verify + store only) | ${ms(ack(ours, 95))} | ${ms(ack(storeOnly, 95))} | ${ratio(ack(ours, 95), ack(storeOnly, 95))} |`,
    `| ack p99 (vs verify + store only) | ${ms(ack(ours, 99))} | ${ms(ack(storeOnly, 99))} | ${ratio(ack(ours, 99), ack(storeOnly, 99))} |`,
    `| ack p99 (vs a bare workflow start) | ${ms(ack(ours, 99))} | ${ms(percentile(bare.startMs, 99))} | ${ratio(ack(ours, 99), percentile(bare.startMs, 99))} |`,
    `| accepted deliveries/s | ${(ours.accepted / ((ours.lastAnswerAt - ours.startedAt) / 1000)).toFixed(1)} | ${(storeOnly.accepted / ((storeOnly.lastAnswerAt - storeOnly.startedAt) / 1000)).toFixed(1)} | |`,
    `| processed events/s (vs no-op workflows completed/s) | ${(workload.unique.length / ((lastProcessed - ours.startedAt) / 1000)).toFixed(1)} | ${bare.completedPerSecond.toFixed(1)} | ${ratio(workload.unique.length / ((lastProcessed - ours.startedAt) / 1000), bare.completedPerSecond)} |`,
    `| send → processed p50 (vs no-op start → closed) | ${ms(percentile(endToEnd, 50))} | ${ms(percentile(bare.endToEndMs, 50))} | ${ratio(percentile(endToEnd, 50), percentile(bare.endToEndMs, 50))} |`,
    `| send → processed p99 (vs no-op start → closed) | ${ms(percentile(endToEnd, 99))} | ${ms(percentile(bare.endToEndMs, 99))} | ${ratio(percentile(endToEnd, 99), percentile(bare.endToEndMs, 99))} |`,
    `| errors (non-2xx or no answer) | ${ours.errors} | ${storeOnly.errors} | |`,
    '',
    memoryLine(memory, 'after the run', dunningMemory),
  ];
  say(['', ...lines, ''].join('\n'));
}

/** Both runs' last line: the memory after the load, and with the dunnings waiting. */
function memoryLine(memory: Memory, after: string, dunning: Awaited<ReturnType<typeof dunningWorkflows>>): string {
  return `Memory (RSS): API ${mib(memory.api)}, worker ${mib(memory.worker)} ${after}; with ${settings.dunning} dunning workflows waiting on timers, worker ${mib(dunning.worker)} (API ${mib(dunning.api)}) 2 s after the last one started and ${mib(dunning.settledWorker)} after ${settings.settleSeconds} s idle.`;
}

interface Memory {
  api: number;
  worker: number;
}

/** Resident memory of the API and the worker, from their /metrics. */
async function memoryOf(deployment: Deployment): Promise<Memory> {
  return { api: await rss(`${deployment.apiUrl}/metrics`), worker: await rss(deployment.workerMetricsUrl) };
}

async function rss(metricsUrl: string): Promise<number> {
  return sampleValue(await (await fetch(metricsUrl)).text(), 'process_resident_memory_bytes') ?? NaN;
}

/** Baseline 1: start no-op workflows on the same server at the same rate; a worker in this process runs them. */
async function bareTemporal(deployment: Deployment, count: number, rate: number) {
  const taskQueue = 'bench-noop';
  const nativeConnection = await NativeConnection.connect({ address: deployment.temporalAddress });
  const worker = await Worker.create({ connection: nativeConnection, taskQueue, workflowsPath: require.resolve('./noop-workflow') });
  const running = worker.run();
  const connection = await Connection.connect({ address: deployment.temporalAddress });
  const client = new Client({ connection });
  const startMs: number[] = [];
  const due = new Map<string, number>();
  const startedAt = Date.now();
  const starts: Promise<void>[] = [];
  for (let i = 0; i < count; i += 1) {
    const at = startedAt + (i / rate) * 1000;
    if (at > Date.now()) await sleep(at - Date.now());
    const workflowId = `noop-${i}-${startedAt}`;
    due.set(workflowId, at);
    starts.push(client.workflow.start('noop', { workflowId, taskQueue }).then(() => void startMs.push(Date.now() - at)));
  }
  await Promise.all(starts);
  const endToEndMs: number[] = [];
  let lastClosed = 0;
  for (const [workflowId, at] of due) {
    const handle = client.workflow.getHandle(workflowId);
    await handle.result();
    const closed = (await handle.describe()).closeTime!.getTime();
    lastClosed = Math.max(lastClosed, closed);
    endToEndMs.push(closed - at);
  }
  worker.shutdown();
  await running;
  await nativeConnection.close();
  await connection.close();
  return { startMs, endToEndMs, completedPerSecond: count / ((lastClosed - startedAt) / 1000) };
}

/** Baseline 2: the same webhook code in its own process, with Temporal replaced by nothing, on a database of its own. */
async function storeOnlyWebhook(deployment: Deployment, db: Db): Promise<Sent> {
  await db.query('CREATE DATABASE store_only');
  const url = new URL(deployment.databaseUrl);
  url.pathname = '/store_only';
  const port = await freePort();
  const api = serviceProcess({
    name: 'store-only-api',
    command: sourceCommand('test/bench/store-only-api.ts'),
    env: { ...deployment.env, DATABASE_URL: url.toString(), PORT: String(port) },
    logFile: `${deployment.dir}/store-only-api.log`,
    ready: async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok,
  });
  await api.start();
  try {
    return await sendAtRate(`http://127.0.0.1:${port}`, buildWorkload(settings.events).deliveries, settings.rate);
  } finally {
    await api.stop();
  }
}

/** Payments fail for `count` invoices; each dunning sends its first notice and waits an hour. */
async function dunningWorkflows(deployment: Deployment, db: Db, count: number) {
  const deliveries = Array.from({ length: count }, () => ({
    event: stripeEvent('invoice.payment_failed', paidInvoice({ status: 'open', customerEmail: 'late@example.com' })),
    copies: 1 as const,
  }));
  const sent = await sendAtRate(deployment.apiUrl, deliveries, Math.max(settings.rate, 40));
  await redeliverRefused(deployment.apiUrl, sent.refused.values());
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM email_outbox WHERE key LIKE 'dunning:%:notice:1' AND status = 'sent'`);
    if (rows[0].n >= count) break;
    if (Date.now() > deadline) throw new Error(`only ${rows[0].n} of ${count} dunning notices sent`);
    await sleep(500);
  }
  await sleep(2000);
  const afterBurst = await memoryOf(deployment);
  // V8 keeps the heap it grew under the burst until the isolate has been idle for a while (its
  // memory reducer); what the dunnings themselves hold shows once it has run.
  say(`bench: worker idle for ${settings.settleSeconds} s with the dunnings waiting`);
  await sleep(settings.settleSeconds * 1000);
  return { ...afterBurst, settledWorker: await rss(deployment.workerMetricsUrl) };
}

function temporalVersion(): string {
  try {
    return execFileSync(temporalCliPath(), ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'temporal CLI (version unknown)';
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
