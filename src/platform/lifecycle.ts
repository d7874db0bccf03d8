import type { Logger } from 'pino';

/** A running part of the service and how to stop it cleanly. */
export interface Running {
  name: string;
  stop(): Promise<void>;
}

/** Stops everything on SIGINT / SIGTERM, in the reverse order of starting. */
export function stopOnSignals(log: Logger, parts: Running[]): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
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
