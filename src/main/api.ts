import { loadConfig } from '../platform/config';
import { createLogger } from '../platform/log';
import { startApi } from './processes';
import { stopOnSignals } from '../platform/lifecycle';
import { exitOnStartupError } from './startup-steps';

async function main() {
  const config = loadConfig(process.env, 'api');
  const log = createLogger(config.LOG_LEVEL, undefined, config.LOG_FORMAT);
  const api = await startApi(config, log);
  log.info({ url: `${api.url}/webhooks/stripe` }, 'API listening');
  stopOnSignals(log, [api], config.SHUTDOWN_TIMEOUT_MS);
}

main().catch(exitOnStartupError);
