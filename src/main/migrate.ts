import { loadConfig } from '../platform/config';
import { migrate } from '../platform/db';
import { createLogger } from '../platform/log';
import { exitOnStartupError } from './startup-error';

async function main() {
  const config = loadConfig(process.env, 'start');
  if (!config.DATABASE_URL) throw new Error('DATABASE_URL: is required for `npm run migrate`');
  await migrate(config.DATABASE_URL, createLogger(config.LOG_LEVEL, undefined, config.LOG_FORMAT));
}

main().catch(exitOnStartupError);
