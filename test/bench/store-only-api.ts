import type { Client } from '@temporalio/client';
import { createApi } from '../../src/http/app';
import { loadConfig } from '../../src/platform/config';
import { createDb, migrate } from '../../src/platform/db';
import { createLogger } from '../../src/platform/log';
import { createMetrics } from '../../src/platform/metrics';

/**
 * The benchmark's second baseline: the real webhook path (read, verify, parse, store, log)
 * with Temporal replaced by nothing, so the cost of starting workflows shows as the difference.
 */
async function main() {
  const config = loadConfig(process.env, 'api');
  const log = createLogger(config.LOG_LEVEL);
  await migrate(config.DATABASE_URL!, log);
  const nothing = {
    connection: {
      withDeadline: (_deadline: number, fn: () => unknown) => fn(),
      workflowService: { getSystemInfo: async () => ({}) },
    },
    workflow: {
      start: async (_type: string, options: { workflowId: string }) => ({ workflowId: options.workflowId, firstExecutionRunId: 'none' }),
    },
  } as unknown as Client;
  const app = createApi({ db: createDb(config.DATABASE_URL!, config.DATABASE_POOL_SIZE), temporal: nothing, config, log, metrics: createMetrics() });
  app.listen(config.PORT);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
