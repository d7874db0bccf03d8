import type { Logger } from 'pino';
import { ConfigError } from '../platform/config';
import { migrate } from '../platform/db';

/**
 * A step of start-up that failed on something outside the process (a server it cannot reach, a
 * database it cannot migrate): said in one line that names the setting to look at, since a stack
 * trace of the driver says nothing a user can act on.
 */
export class StartupStepError extends Error {
  constructor(step: string, cause: unknown) {
    super(`could not ${step}: ${firstLine(cause)}`, { cause });
    this.name = 'StartupStepError';
  }
}

export async function startupStep<T>(step: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new StartupStepError(step, err);
  }
}

/** Brings the schema up to date, or says which database could not be migrated (never its password). */
export function migrateAtStartup(databaseUrl: string, log: Logger): Promise<void> {
  const url = new URL(databaseUrl);
  return startupStep(`migrate the database at ${url.host}${url.pathname} (DATABASE_URL)`, () => migrate(databaseUrl, log));
}

function firstLine(err: unknown): string {
  // Node reports a host whose every address refused (localhost: ::1 and 127.0.0.1) as an
  // AggregateError without a message of its own.
  if (err instanceof AggregateError && err.message === '' && err.errors.length > 0) return firstLine(err.errors[0]);
  const message = err instanceof Error ? err.message : String(err);
  // grpc-js ends an unreachable server's message with an empty "Resolution note:".
  const line = message.split('\n')[0].replace(/\s*Resolution note:\s*$/, '').trim();
  return line || (err as Error)?.name || 'unknown error';
}

/** Start-up failures end the process with the reason, not a stack trace, when it is the user's to fix. */
export function exitOnStartupError(err: unknown): never {
  if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
  else if (err instanceof StartupStepError) process.stderr.write(`Start-up failed: ${err.message}\n`);
  else process.stderr.write(`Start-up failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
