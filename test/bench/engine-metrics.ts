import { histogramTotals, meanMsBetween, sampleTotal, type HistogramTotals } from '../support/metrics-text';

/**
 * What the Temporal server says about a step (its own /metrics): where a workflow start and a
 * workflow task wait inside it. The acknowledgement includes a start, so these explain an ack
 * slower than the bare start on the same server.
 */
export interface EngineFigures {
  /** Workflow tasks handed to the step's task queue's pollers. */
  workflowTasks: number;
  /** Of those, the share that no poller was waiting for: written to the task queue's backlog in the server's storage and read back. */
  fromBacklogShare: number;
  /** Mean wait for a history shard's I/O semaphore, which every write of a workflow's state holds; `history.shardIOConcurrency` writes hold it at once (ms). */
  shardIoWaitMs: number;
  /** Mean time of a StartWorkflowExecution call at the server's frontend (ms). */
  startMs: number;
}

/** Running totals read from one scrape; two of them make a step's figures. */
export interface EngineTotals {
  polled: number;
  polledFromWaitingPoller: number;
  shardIo: HistogramTotals;
  start: HistogramTotals;
}

/** The server's metrics label a task queue with every character but letters, digits and `_` replaced by `_`. */
const taskQueueLabel = (taskQueue: string) => taskQueue.replace(/[^A-Za-z0-9_]/g, '_');

export function engineTotalsOf(text: string, taskQueue: string): EngineTotals {
  const queue = { taskqueue: taskQueueLabel(taskQueue), task_type: 'Workflow' };
  return {
    polled: sampleTotal(text, 'poll_success', queue),
    polledFromWaitingPoller: sampleTotal(text, 'poll_success_sync', queue),
    shardIo: histogramTotals(text, 'semaphore_latency', { operation: 'ShardInfo' }),
    start: histogramTotals(text, 'service_latency', { operation: 'StartWorkflowExecution', service_name: 'frontend' }),
  };
}

/** The server's running totals now; undefined when it does not answer (a step then shows –). */
export async function engineTotals(metricsUrl: string, taskQueue: string): Promise<EngineTotals | undefined> {
  try {
    return engineTotalsOf(await (await fetch(metricsUrl)).text(), taskQueue);
  } catch {
    return undefined;
  }
}

export function engineFiguresBetween(before: EngineTotals | undefined, after: EngineTotals | undefined): EngineFigures | undefined {
  if (!before || !after) return undefined;
  const workflowTasks = after.polled - before.polled;
  return {
    workflowTasks,
    fromBacklogShare: (workflowTasks - (after.polledFromWaitingPoller - before.polledFromWaitingPoller)) / workflowTasks,
    shardIoWaitMs: meanMsBetween(before.shardIo, after.shardIo),
    startMs: meanMsBetween(before.start, after.start),
  };
}
