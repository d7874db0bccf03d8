import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Db } from '../../src/platform/db';
import type { StripeEvent } from '../../src/platform/stripe-event';
import { buildWorkload, seededRandom, type WorkloadMix } from '../chaos/workload';
import type { Deployment } from '../support/deployment';
import { histogramTotals, meanMsBetween, type HistogramTotals } from '../support/metrics-text';
import { countCpu, type StepCpu } from './cpu';
import { engineFiguresBetween, engineTotals, type EngineFigures } from './engine-metrics';
import { percentile, processedTimes, redeliverRefused, sendAtRate, waitForProcessed } from './load';

/** One step of offered load: what was sent, what was done, and whether the backlog drained. */
export interface StepResult {
  /** Deliveries per second offered (the service) or workflow starts per second (the baseline). */
  offered: number;
  acceptedPerSecond: number;
  processedPerSecond: number;
  /** Events (or workflows) not yet processed when the step's sending window ended. */
  backlogAtWindowEnd: number;
  /** Time after the window until everything was processed; null when it did not drain in time. */
  drainedAfterMs: number | null;
  ackP50: number;
  ackP99: number;
  endToEndP50: number;
  endToEndP99: number;
  errors: number;
  /** The service: mean time of each acceptance step inside the API over the window (its /metrics). */
  acceptanceMeanMs?: AcceptanceMeans;
  /** The service: PostgreSQL connections the API and the worker opened from the step's start until it drained. */
  connectionsOpened?: number;
  /** CPU per processed event, from the step's start until it drained or the drain time ran out (Linux). */
  cpu?: StepCpu;
  /** What the Temporal server's own metrics say about the same stretch. */
  engine?: EngineFigures;
}

export type AcceptanceMeans = Record<'lookup' | 'store' | 'start', number>;

export interface StepSettings {
  rates: number[];
  windowSeconds: number;
  drainSeconds: number;
  mix: WorkloadMix;
}

const say = (line: string) => console.log(line);

/**
 * Whether a step's backlog drained in time: every event done, the last within `drainSeconds` of
 * the window's end. The processing times decide, not the poll that saw them (it may come later).
 */
function drainedInTime(settings: StepSettings, allDone: boolean, lastDoneAt: number, windowEnd: number): boolean {
  return allDone && lastDoneAt - windowEnd <= settings.drainSeconds * 1000;
}

/** One series of steps (the service, or the baseline), run a step at a time. */
export interface Series {
  step(rate: number): Promise<StepResult>;
  /** Once its step is over: nothing of it left for the server to do while the other series steps. */
  settle(): Promise<void>;
}

/**
 * Steps the offered rate up for each series in turns, rate by rate (the service at 10/s, the
 * baseline at 10/s, the service at 20/s, …), so that the two steps compared at one rate run within
 * a minute of each other: a shared machine's speed moves over minutes (BENCHMARKS.md, 2026-12-07,
 * fifth section). A series stops at its first step whose backlog does not drain within
 * `drainSeconds` (that step is reported and is its last); each series' capacity is its highest
 * step that drained.
 */
export async function stepsInTurns(settings: Pick<StepSettings, 'rates'>, series: Series[]): Promise<StepResult[][]> {
  const results = series.map((): StepResult[] => []);
  const stepping = series.map(() => true);
  for (const rate of settings.rates) {
    for (const [index, one] of series.entries()) {
      if (!stepping[index]) continue;
      const result = await one.step(rate);
      results[index].push(result);
      if (result.drainedAfterMs === null) stepping[index] = false;
      await one.settle();
    }
    if (!stepping.some(Boolean)) break;
  }
  return results;
}

export function capacity(results: StepResult[]): StepResult | undefined {
  return results.filter((step) => step.drainedAfterMs !== null).at(-1);
}

/**
 * The service: signed deliveries (duplicates included) at each rate, against the API process.
 * After each step, deliveries refused under load are delivered again, as Stripe would, and
 * everything is processed, so the baseline's step after it measures an idle server.
 */
export function serviceSeries(deployment: Deployment, db: Db, settings: StepSettings): Series {
  const all: string[] = [];
  const refused = new Map<string, StripeEvent>();
  const step = async (rate: number): Promise<StepResult> => {
    // A fifth of the events are delivered twice: deliveries ≈ 1.2 × unique events.
    const workload = buildWorkload(Math.max(1, Math.round((rate * settings.windowSeconds) / 1.2)), 0.2, seededRandom(rate), settings.mix);
    const ids = workload.unique.map((event) => event.id);
    all.push(...ids);
    const progress = { answered: 0 };
    const requests = workload.deliveries.reduce((sum, delivery) => sum + delivery.copies, 0);
    const ticker = setInterval(() => {
      void processedTimes(db, ids).then((done) =>
        say(`  service @ ${rate}/s: answered ${progress.answered}/${requests} deliveries, processed ${done.size}/${ids.length} events`),
      );
    }, 3000);
    try {
      const stepsBefore = await acceptanceSteps(deployment.apiUrl);
      const sessionsBefore = await sessionsOpened(db);
      const cpu = countCpu(deployment.pids);
      const engineBefore = await engineTotals(deployment.engineMetricsUrl, deployment.taskQueue);
      const sent = await sendAtRate(deployment.apiUrl, workload.deliveries, rate, progress);
      for (const [id, event] of sent.refused) refused.set(id, event);
      const windowEnd = Date.now();
      const stepsAfter = await acceptanceSteps(deployment.apiUrl);
      const backlogAtWindowEnd = ids.length - (await processedTimes(db, ids)).size;
      let done = await processedTimes(db, ids);
      while (done.size < ids.length && Date.now() < windowEnd + settings.drainSeconds * 1000) {
        await sleep(250);
        done = await processedTimes(db, ids);
      }
      const allDone = done.size === ids.length;
      const lastProcessed = Math.max(...done.values());
      const drained = drainedInTime(settings, allDone, lastProcessed, windowEnd);
      const endToEnd = [...done].map(([id, at]) => at - sent.firstScheduled.get(id)!);
      const elapsed = ((allDone ? lastProcessed : Date.now()) - sent.startedAt) / 1000;
      return {
        offered: rate,
        acceptedPerSecond: sent.accepted / ((sent.lastAnswerAt - sent.startedAt) / 1000),
        processedPerSecond: done.size / elapsed,
        backlogAtWindowEnd,
        drainedAfterMs: drained ? Math.max(0, lastProcessed - windowEnd) : null,
        ackP50: percentile(sent.latenciesMs, 50),
        ackP99: percentile(sent.latenciesMs, 99),
        endToEndP50: percentile(endToEnd, 50),
        endToEndP99: percentile(endToEnd, 99),
        errors: sent.errors,
        acceptanceMeanMs: meansBetween(stepsBefore, stepsAfter),
        connectionsOpened: (await sessionsOpened(db)) - sessionsBefore,
        cpu: cpu.stop(done.size),
        engine: engineFiguresBetween(engineBefore, await engineTotals(deployment.engineMetricsUrl, deployment.taskQueue)),
      };
    } finally {
      clearInterval(ticker);
    }
  };
  const settle = async () => {
    await redeliverRefused(deployment.apiUrl, refused.values());
    refused.clear();
    await waitForProcessed(db, all, 15 * 60_000);
  };
  return { step, settle };
}

type StepTotals = Record<keyof AcceptanceMeans, HistogramTotals>;

/** Sessions PostgreSQL has opened on the service's database so far (the bench's own few included). */
async function sessionsOpened(db: Db): Promise<number> {
  const { rows } = await db.query<{ sessions: string }>('SELECT sessions FROM pg_stat_database WHERE datname = current_database()');
  return Number(rows[0].sessions);
}

/** The API's running totals of `stripe_webhook_acceptance_step_seconds` (sum and count per step). */
async function acceptanceSteps(apiUrl: string): Promise<StepTotals> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  const of = (step: string) => histogramTotals(text, 'stripe_webhook_acceptance_step_seconds', { step });
  return { lookup: of('lookup'), store: of('store'), start: of('start') };
}

function meansBetween(before: StepTotals, after: StepTotals): AcceptanceMeans {
  // No call of a step in the window (every delivery a duplicate) has no mean: NaN, shown as –.
  const mean = (step: keyof AcceptanceMeans) => meanMsBetween(before[step], after[step]);
  return { lookup: mean('lookup'), store: mean('store'), start: mean('start') };
}

/**
 * The baseline: a plain client starting no-op workflows on the same server, a worker in this
 * process running them. Each step starts as many workflows per second as the service's step
 * has unique events per second (duplicates start nothing there). `close` stops its worker.
 */
export async function baselineSeries(deployment: Deployment, settings: StepSettings): Promise<Series & { close(): Promise<void> }> {
  const taskQueue = `bench-noop-${Date.now()}`;
  const nativeConnection = await NativeConnection.connect({ address: deployment.temporalAddress });
  const worker = await Worker.create({ connection: nativeConnection, taskQueue, workflowsPath: require.resolve('./noop-workflow') });
  const running = worker.run();
  const connection = await Connection.connect({ address: deployment.temporalAddress });
  const client = new Client({ connection });
  const open = async () => (await client.workflow.count(`TaskQueue = "${taskQueue}" AND ExecutionStatus = "Running"`)).count;
  return {
    step: async (rate) => {
      const startsPerSecond = rate / 1.2;
      const count = Math.max(1, Math.round(startsPerSecond * settings.windowSeconds));
      const prefix = `noop-${rate}-${Date.now()}`;
      const due = new Map<string, number>();
      const startMs: number[] = [];
      let errors = 0;
      const closedTimes = async () => {
        const closed = new Map<string, number>();
        for await (const execution of client.workflow.list({ query: `WorkflowId STARTS_WITH "${prefix}" AND ExecutionStatus = "Completed"` })) {
          closed.set(execution.workflowId, execution.closeTime!.getTime());
        }
        return closed;
      };
      const ticker = setInterval(() => {
        void client.workflow
          .count(`WorkflowId STARTS_WITH "${prefix}" AND ExecutionStatus = "Completed"`)
          .then(({ count: closed }) => say(`  baseline @ ${rate}/s: started ${startMs.length}/${count} workflows, completed ${closed}`));
      }, 3000);
      try {
        const cpu = countCpu(deployment.pids);
        const engineBefore = await engineTotals(deployment.engineMetricsUrl, taskQueue);
        const startedAt = Date.now();
        const starts: Promise<void>[] = [];
        for (let i = 0; i < count; i += 1) {
          const at = startedAt + (i / startsPerSecond) * 1000;
          if (at > Date.now()) await sleep(at - Date.now());
          const workflowId = `${prefix}-${i}`;
          due.set(workflowId, at);
          starts.push(
            client.workflow.start('noop', { workflowId, taskQueue }).then(
              () => void startMs.push(Date.now() - at),
              () => void (errors += 1),
            ),
          );
        }
        await Promise.all(starts);
        const windowEnd = Date.now();
        // Visibility trails completion by a moment; count what the server says is closed.
        let closed = await closedTimes();
        const backlogAtWindowEnd = count - closed.size;
        while (closed.size < count && Date.now() < windowEnd + settings.drainSeconds * 1000) {
          await sleep(500);
          closed = await closedTimes();
        }
        const allClosed = closed.size === count;
        const lastClosed = Math.max(...closed.values());
        const drained = drainedInTime(settings, allClosed, lastClosed, windowEnd);
        const endToEnd = [...closed].map(([id, at]) => at - due.get(id)!);
        return {
          offered: rate,
          acceptedPerSecond: startMs.length / ((windowEnd - startedAt) / 1000),
          processedPerSecond: closed.size / (((allClosed ? lastClosed : Date.now()) - startedAt) / 1000),
          backlogAtWindowEnd,
          drainedAfterMs: drained ? Math.max(0, lastClosed - windowEnd) : null,
          ackP50: percentile(startMs, 50),
          ackP99: percentile(startMs, 99),
          endToEndP50: percentile(endToEnd, 50),
          endToEndP99: percentile(endToEnd, 99),
          errors,
          cpu: cpu.stop(closed.size),
          engine: engineFiguresBetween(engineBefore, await engineTotals(deployment.engineMetricsUrl, taskQueue)),
        };
      } finally {
        clearInterval(ticker);
      }
    },
    settle: async () => {
      const until = Date.now() + 15 * 60_000;
      while ((await open()) > 0 && Date.now() < until) await sleep(500);
    },
    close: async () => {
      worker.shutdown();
      await running;
      await nativeConnection.close();
      await connection.close();
    },
  };
}

const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

export function stepTable(name: string, results: StepResult[]): string[] {
  return [
    `| ${name} offered/s | accepted/s | processed/s | backlog at window end | drained after | ack p50 | ack p99 | send → processed p50 | p99 | errors |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...results.map(
      (step) =>
        `| ${step.offered} | ${fixed(step.acceptedPerSecond)} | ${fixed(step.processedPerSecond)} | ${step.backlogAtWindowEnd} | ${step.drainedAfterMs === null ? 'not in time' : `${(step.drainedAfterMs / 1000).toFixed(1)} s`} | ${fixed(step.ackP50, 0)} ms | ${fixed(step.ackP99, 0)} ms | ${fixed(step.endToEndP50, 0)} ms | ${fixed(step.endToEndP99, 0)} ms | ${step.errors} |`,
    ),
  ];
}

/** The service's acknowledgement taken apart: where its time went inside the API, step by step. */
export function acceptanceTable(results: StepResult[]): string[] {
  return [
    '| service offered/s | look up the event (PostgreSQL) | store the event (PostgreSQL), beside | start the workflow (Temporal) | PostgreSQL connections opened (API and worker) |',
    '| --- | --- | --- | --- | --- |',
    ...results.map(({ offered, acceptanceMeanMs: mean, connectionsOpened }) =>
      mean
        ? `| ${offered} | ${fixed(mean.lookup)} ms | ${fixed(mean.store)} ms | ${fixed(mean.start)} ms | ${connectionsOpened ?? '–'} |`
        : `| ${offered} | – | – | – | ${connectionsOpened ?? '–'} |`,
    ),
  ];
}

/**
 * Where a start and a workflow task waited inside the Temporal server, step by step: the figures
 * that tell an ack slower than the bare start from a server busier with the service's own work.
 */
export function engineTable(name: string, results: StepResult[]): string[] {
  if (!results.some((step) => step.engine)) return [];
  return [
    `| ${name} offered/s | workflow tasks | of which no poller was waiting for (stored, read back) | wait for the history shard's I/O semaphore, mean | StartWorkflowExecution at the frontend, mean |`,
    '| --- | --- | --- | --- | --- |',
    ...results.map(({ offered, engine }) =>
      engine
        ? `| ${offered} | ${engine.workflowTasks} | ${fixed(engine.fromBacklogShare * 100, 0)} % | ${fixed(engine.shardIoWaitMs, 2)} ms | ${fixed(engine.startMs)} ms |`
        : `| ${offered} | – | – | – | – |`,
    ),
  ];
}

/**
 * Each step's CPU per processed event, by process: the figure that moves least between runs, and
 * what capacity on a machine of N cores comes down to (N × 1000 ms divided by the sum).
 */
export function cpuTable(name: string, results: StepResult[]): string[] {
  if (!results.some((step) => step.cpu)) return [];
  const cell = (value: number | undefined) => (value === undefined ? '–' : `${fixed(value)} ms`);
  return [
    `| ${name} offered/s | worker | Temporal | PostgreSQL | API | load (bench process) | all | cores busy |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...results.map(({ offered, cpu }) => {
      const per = cpu?.msPerEvent;
      return `| ${offered} | ${cell(per?.worker)} | ${cell(per?.engine)} | ${cell(per?.postgres)} | ${cell(per?.api)} | ${cell(per?.load)} | ${cell(cpu?.allMsPerEvent)} | ${cpu ? fixed(cpu.coresBusy, 2) : '–'} |`;
    }),
  ];
}

/** Processed/s and ack p99 against the offered rate, service and baseline, as an SVG (vega-lite). */
export async function writeChart(file: string, series: { name: string; results: StepResult[] }[], title: string): Promise<void> {
  const vl = await import('vega-lite');
  const vega = await import('vega');
  const values = series.flatMap(({ name, results }) =>
    results.map((step) => ({ series: name, offered: step.offered, processed: step.processedPerSecond, ackP99: step.ackP99 })),
  );
  const panel = (field: string, label: string, scale: 'linear' | 'log') => ({
    width: 320,
    height: 220,
    mark: { type: 'line' as const, point: true },
    encoding: {
      x: { field: 'offered', type: 'quantitative' as const, title: 'offered rate (per second)' },
      y: { field, type: 'quantitative' as const, title: label, scale: { type: scale } },
      color: { field: 'series', type: 'nominal' as const, title: null, legend: { orient: 'bottom' as const, labelLimit: 400 } },
    },
  });
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values },
    hconcat: [panel('processed', 'processed per second', 'linear'), panel('ackP99', 'ack / start p99 (ms)', 'log')],
  };
  const view = new vega.View(vega.parse(vl.compile(spec as never).spec), { renderer: 'none' });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, await view.toSVG());
  await view.finalize();
}
