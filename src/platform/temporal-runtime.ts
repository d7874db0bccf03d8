import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { Config } from './config';

/**
 * Sends the Temporal SDK's own log lines (warnings and up) through pino. Once per process.
 * The SDK's own signal handling is turned off: stopOnSignals stops the parts in order.
 */
export function installTemporalRuntime(log: Logger, config: Pick<Config, 'TEMPORAL_SDK_METRICS_ADDRESS'> = {}): void {
  Runtime.install({
    shutdownSignals: [],
    logger: new DefaultLogger(temporalLogLevel(log.level), (entry) => {
      const { workflowId, ...meta } = entry.meta ?? {};
      // The execution of an event has the event id as its workflow id: one field to search logs by.
      const ids = typeof workflowId === 'string' && workflowId.startsWith('evt_') ? { eventId: workflowId } : { workflowId };
      log[entry.level === 'TRACE' ? 'trace' : (entry.level.toLowerCase() as 'debug' | 'info' | 'warn' | 'error')](
        { ...meta, ...ids },
        entry.message,
      );
    }),
    ...(config.TEMPORAL_SDK_METRICS_ADDRESS && {
      telemetryOptions: { metrics: { prometheus: { bindAddress: config.TEMPORAL_SDK_METRICS_ADDRESS } } },
    }),
  });
}

function temporalLogLevel(level: string): 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' {
  if (level === 'trace' || level === 'debug') return level.toUpperCase() as 'TRACE' | 'DEBUG';
  if (level === 'info') return 'INFO';
  if (level === 'warn') return 'WARN';
  return 'ERROR';
}
