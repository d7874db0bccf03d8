import { loadConfig } from '../platform/config';
import { createLogger } from '../platform/log';
import { exitOnStartupError, migrateAtStartup } from './startup-steps';

async function main() {
  const config = loadConfig(process.env, 'migrate');
  await migrateAtStartup(config.DATABASE_URL!, createLogger(config.LOG_LEVEL, undefined, config.LOG_FORMAT));
}

main().catch(exitOnStartupError);
