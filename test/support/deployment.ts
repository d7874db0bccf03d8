import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { projectRoot } from '../../src/embedded';

/**
 * `npm run api` / `npm run worker` as a supervised child process, the way a process manager
 * runs them: restarted when it dies unexpectedly, killable with SIGKILL on purpose.
 */
export interface ServiceProcess {
  name: string;
  /** Unplanned exits the supervisor recovered from. */
  crashes: number;
  start(): Promise<void>;
  /** SIGKILL to the whole process group, then start again. */
  killAndRestart(): Promise<void>;
  stop(): Promise<void>;
}

export function serviceProcess(options: {
  name: string;
  entry: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  ready: () => Promise<boolean>;
}): ServiceProcess {
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stopping = false;
  const log = fs.openSync(options.logFile, 'a');

  const spawnChild = () => {
    child = spawn(path.join(projectRoot, 'node_modules', '.bin', 'tsx'), [options.entry], {
      cwd: projectRoot,
      env: options.env,
      stdio: ['ignore', log, log],
      // Its own group: a SIGKILL reaches tsx and the node process it runs alike.
      detached: true,
    });
    const current = child;
    exited = new Promise((resolve) =>
      current.once('exit', () => {
        resolve();
        if (!stopping && current === child) {
          self.crashes += 1;
          setTimeout(() => {
            if (stopping || current !== child) return;
            self.start().catch((err: Error) => console.error(`chaos: ${options.name} did not come back: ${err.message}`));
          }, 500);
        }
      }),
    );
  };

  const killGroup = async (signal: NodeJS.Signals) => {
    const current = child;
    if (!current?.pid || current.exitCode !== null || current.signalCode !== null) return;
    child = undefined;
    try {
      process.kill(-current.pid, signal);
    } catch {
      // Already gone.
    }
    await exited;
  };

  const self: ServiceProcess = {
    name: options.name,
    crashes: 0,
    async start() {
      spawnChild();
      const deadline = Date.now() + 90_000;
      while (!(await options.ready().catch(() => false))) {
        if (Date.now() > deadline) throw new Error(`${options.name} did not become ready; see ${options.logFile}`);
        await sleep(200);
      }
    },
    async killAndRestart() {
      await killGroup('SIGKILL');
      await self.start();
    },
    async stop() {
      stopping = true;
      await killGroup('SIGTERM');
      fs.closeSync(log);
    },
  };
  return self;
}
