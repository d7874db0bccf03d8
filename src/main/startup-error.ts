import { ConfigError } from '../platform/config';

/** Start-up failures end the process with the reason, not a stack trace, when it is the user's to fix. */
export function exitOnStartupError(err: unknown): never {
  if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
  else process.stderr.write(`Start-up failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
