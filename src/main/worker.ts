import { loadConfig } from '../platform/config';
import { createLogger } from '../platform/log';
import { startWorker } from './processes';
import { installTemporalRuntime } from '../platform/temporal-runtime';
import { stopOnSignals } from '../platform/lifecycle';
import { exitOnStartupError } from './startup-steps';

async function main() {
  const config = loadConfig(process.env, 'worker');
  const log = createLogger(config.LOG_LEVEL, undefined, config.LOG_FORMAT);
  installTemporalRuntime(log, config);
  const worker = await startWorker(config, log);
  stopOnSignals(log, [worker], config.SHUTDOWN_TIMEOUT_MS);
  await worker.done;
}

main().catch(exitOnStartupError);
