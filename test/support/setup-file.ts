import { DefaultLogger, Runtime } from '@temporalio/worker';

// The SDK's own logs would drown the test report; warnings and errors still show.
// Shutdown signals stay with the process owner (here jest), not the worker.
Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
