import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { PerformanceObserver } from 'node:perf_hooks';

// The SDK's own logs would drown the test report; warnings and errors still show.
// Shutdown signals stay with the process owner (here jest), not the worker.
Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });

// prom-client's default metrics watch garbage collection with a PerformanceObserver they never
// disconnect: once per process in production, but here once per test file that starts the API
// or a worker, and each observer kept all of its file's modules alive in jest's worker process
// (about 20 MB a file). Observers made in a file are disconnected after it.
const observers = new Set<PerformanceObserver>();
jest.mock('perf_hooks', () => {
  const actual = jest.requireActual<typeof import('node:perf_hooks')>('perf_hooks');
  class FileObserver extends actual.PerformanceObserver {
    constructor(callback: ConstructorParameters<typeof actual.PerformanceObserver>[0]) {
      super(callback);
      observers.add(this);
    }
  }
  return { ...actual, PerformanceObserver: FileObserver };
});
afterAll(() => {
  for (const observer of observers) observer.disconnect();
});
