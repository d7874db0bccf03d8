import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { engineFiguresBetween, engineTotals, engineTotalsOf } from './bench/engine-metrics';
import { until } from './support/until';

const metricsUrl = process.env.TEST_TEMPORAL_METRICS_URL!;

/** Two scrapes of a server, as it prints its metrics: another task queue, the sticky partition and the system namespace beside ours. */
const scrape = (polled: number, fromWaitingPoller: number, ioWaitSeconds: number, ioWaits: number, startSeconds: number, starts: number) => `
poll_success{namespace="default",operation="TaskQueueMgr",partition="0",service_name="matching",task_type="Workflow",taskqueue="billing_events",worker_build_id="__unversioned__"} ${polled}
poll_success{namespace="default",operation="TaskQueueMgr",partition="__sticky__",service_name="matching",task_type="Workflow",taskqueue="billing_events",worker_build_id="__unversioned__"} 2
poll_success{namespace="default",operation="TaskQueueMgr",partition="0",service_name="matching",task_type="Workflow",taskqueue="bench_noop_1",worker_build_id="__unversioned__"} 500
poll_success{namespace="default",operation="TaskQueueMgr",partition="0",service_name="matching",task_type="Activity",taskqueue="billing_events",worker_build_id="__unversioned__"} 70
poll_success_sync{namespace="default",operation="TaskQueueMgr",partition="0",service_name="matching",task_type="Workflow",taskqueue="billing_events",worker_build_id="__unversioned__"} ${fromWaitingPoller}
poll_success_sync{namespace="default",operation="TaskQueueMgr",partition="__sticky__",service_name="matching",task_type="Workflow",taskqueue="billing_events",worker_build_id="__unversioned__"} 2
semaphore_latency_sum{operation="ShardInfo",priority="0",service_name="history"} ${ioWaitSeconds}
semaphore_latency_count{operation="ShardInfo",priority="0",service_name="history"} ${ioWaits}
semaphore_latency_sum{operation="ShardInfo",priority="1",service_name="history"} 1
semaphore_latency_count{operation="ShardInfo",priority="1",service_name="history"} 100
service_latency_sum{namespace="default",operation="StartWorkflowExecution",service_name="frontend"} ${startSeconds}
service_latency_count{namespace="default",operation="StartWorkflowExecution",service_name="frontend"} ${starts}
service_latency_sum{namespace="default",operation="StartWorkflowExecution",service_name="history"} 99
service_latency_count{namespace="default",operation="StartWorkflowExecution",service_name="history"} 1
`;

describe("the bench's view inside the Temporal server", () => {
  test('when two scrapes bracket a step, then its figures are what happened between them, on its own task queue', () => {
    const before = engineTotalsOf(scrape(1000, 900, 2, 4000, 10, 1000), 'billing-events');
    const after = engineTotalsOf(scrape(1400, 1200, 2.4, 4100, 10.6, 1200), 'billing-events');

    const figures = engineFiguresBetween(before, after);

    // 400 workflow tasks on the normal partition (the sticky one's 2 did not change), 100 of them from the backlog.
    expect(figures).toEqual({ workflowTasks: 400, fromBacklogShare: 0.25, shardIoWaitMs: expect.closeTo(4, 6), startMs: expect.closeTo(3, 6) });
  });

  test('when the server serves no metrics, then a step has no figures rather than made-up ones', async () => {
    const missing = await engineTotals('http://127.0.0.1:9/metrics', 'billing-events');

    expect(missing).toBeUndefined();
    expect(engineFiguresBetween(missing, missing)).toBeUndefined();
  });

  test('when workflows run on the test engine, then its metrics count their starts and workflow tasks', async () => {
    // Arrange: a no-op workflow's worker on a task queue of its own.
    const taskQueue = `engine-metrics-${randomUUID()}`;
    const nativeConnection = await NativeConnection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
    const worker = await Worker.create({ connection: nativeConnection, taskQueue, workflowsPath: require.resolve('./bench/noop-workflow') });
    const connection = await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
    const client = new Client({ connection });
    try {
      await worker.runUntil(async () => {
        const before = await engineTotals(metricsUrl, taskQueue);

        // Act: three workflows, each run to its end.
        for (let i = 0; i < 3; i += 1) await client.workflow.execute('noop', { workflowId: `${taskQueue}-${i}`, taskQueue });
        // The server publishes its metrics every second or so, not as they happen.
        let after = await engineTotals(metricsUrl, taskQueue);
        await until(async () => (after = await engineTotals(metricsUrl, taskQueue))!.polled >= 3);

        // Assert
        const figures = engineFiguresBetween(before, after)!;
        expect(figures.workflowTasks).toBe(3);
        expect(after!.start.count - before!.start.count).toBeGreaterThanOrEqual(3);
        expect(figures.startMs).toBeGreaterThan(0);
        expect(after!.shardIo.count).toBeGreaterThan(before!.shardIo.count);
      });
    } finally {
      await connection.close();
      await nativeConnection.close();
    }
  });
});
