import { loadConfig } from './config';
import { createLogger } from './log';
import { installTemporalRuntime, startWorker, stopOnSignals } from './service';
import { exitOnStartupError } from './startup';

async function main() {
  const config = loadConfig(process.env, 'worker');
  const log = createLogger(config.LOG_LEVEL);
  installTemporalRuntime(log, config);
  const worker = await startWorker(config, log);
  stopOnSignals(log, [worker]);
  await worker.done;
}

main().catch(exitOnStartupError);
