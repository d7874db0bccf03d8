import type { Logger } from 'pino';

/** A running part of the service and how to stop it cleanly. */
export interface Running {
  name: string;
  stop(): Promise<void>;
}

/**
 * Stops everything on SIGINT / SIGTERM, in the reverse order of starting. A part that does not
 * stop within the deadline (a hung connection, a stuck activity) ends the process anyway, with
 * exit code 1, so an orchestrator never waits on it forever.
 */
export function stopOnSignals(log: Logger, parts: Running[], deadlineMs = 30_000): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, deadlineMs }, 'stopping');
    setTimeout(() => {
      log.error({ deadlineMs }, 'not stopped within the shutdown deadline; exiting anyway');
      process.exit(1);
    }, deadlineMs).unref();
    for (const part of [...parts].reverse()) {
      await part.stop().catch((err: Error) => log.error({ err, part: part.name }, 'error while stopping'));
      log.info({ part: part.name }, 'stopped');
    }
    process.exit(0);
  };
  // `on`, not `once`: Ctrl-C reaches us twice (from the terminal and relayed by tsx), and a
  // second signal without a handler would kill the process halfway through stopping.
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
