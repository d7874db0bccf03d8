import { loadConfig } from './config';
import { createLogger } from './log';
import { startApi, stopOnSignals } from './service';
import { exitOnStartupError } from './startup';

async function main() {
  const config = loadConfig(process.env, 'api');
  const log = createLogger(config.LOG_LEVEL);
  const api = await startApi(config, log);
  log.info({ url: `${api.url}/webhooks/stripe` }, 'API listening');
  stopOnSignals(log, [api]);
}

main().catch(exitOnStartupError);
