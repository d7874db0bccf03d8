import { workflowTaskPolling } from '../src/main/processes';

describe("the worker's polls for workflow tasks", () => {
  test('when the worker may run the SDK default of 40 tasks at once, then it keeps 20 polls, most of them on the task queue', () => {
    expect(workflowTaskPolling()).toEqual({ maxConcurrentWorkflowTaskPolls: 20, nonStickyToStickyPollRatio: 0.8 });
  });

  test('when WORKER_MAX_CONCURRENT_TASKS is below 20, then it keeps no more polls than tasks it may run (a poll waits for a free task slot)', () => {
    expect(workflowTaskPolling(2).maxConcurrentWorkflowTaskPolls).toBe(2);
    expect(workflowTaskPolling(100).maxConcurrentWorkflowTaskPolls).toBe(20);
  });
});
