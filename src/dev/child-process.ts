import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** A helper process (Temporal dev server, mail sink) that `npm start` owns and stops. */
export interface Child {
  process: ChildProcess;
  /** The last lines it printed, after the first that gives a reason to fail, to explain a failed start. */
  output(): string;
  stop(): Promise<void>;
}

export interface ChildOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Where its pid is kept while it runs. Its own process group outlives a parent killed with
   * SIGKILL (OOM, `kill -9`); the next start passes the same file to `stopLeftover` first.
   */
  pidFile?: string;
}

const failureReason = /^(panic|fatal error|Error):/;

export function startChild(command: string, args: string[], options: ChildOptions = {}): Child {
  const { pidFile, ...spawnOptions } = options;
  // A process group of its own: Ctrl-C in the terminal reaches only us, and we stop it in order.
  const child = spawn(command, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  if (pidFile && child.pid) {
    fs.writeFileSync(pidFile, JSON.stringify({ pid: child.pid, argv: [command, ...args] }), { mode: 0o600 });
    child.once('exit', () => fs.rmSync(pidFile, { force: true }));
  }
  const lines: string[] = [];
  // A Go panic prints its reason first and then a stack trace longer than the lines kept: the
  // reason is kept apart, so that a failed start still says why.
  let reason: string | undefined;
  const keep = (chunk: Buffer) => {
    const printed = chunk.toString('utf8').split('\n').filter(Boolean);
    reason ??= printed.find((line) => failureReason.test(line));
    lines.push(...printed);
    lines.splice(0, Math.max(0, lines.length - 20));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    process: child,
    output: () => (reason && !lines.includes(reason) ? [reason, '…', ...lines] : lines).join('\n'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), sleep(10_000, undefined, { ref: false }).then(() => false)]);
      if (!stopped) {
        // The whole group: a wrapper (tsx, npm) may be gone already while what it ran is not.
        killGroup(child, 'SIGKILL');
        await exited;
      }
    },
  };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals) {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    child.kill(signal); // the group is gone; the process itself may not be
  }
}

/**
 * Stops what an earlier start left running when it was killed without stopping its children:
 * the process named in the pid file, if it still runs the same command line (a pid may have been
 * reused by an unrelated process since), and its process group; SIGTERM, then SIGKILL after
 * 10 s. Reads /proc, so it acts on Linux only.
 */
export async function stopLeftover(pidFile: string): Promise<void> {
  let recorded: { pid: number; argv: string[] };
  try {
    recorded = JSON.parse(fs.readFileSync(pidFile, 'utf8'));
  } catch {
    return;
  }
  const running = () => {
    try {
      const argv = fs.readFileSync(`/proc/${recorded.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      // In order, possibly after an interpreter (a script's shebang puts one first).
      let next = 0;
      for (const arg of argv) if (arg === recorded.argv[next]) next += 1;
      return next === recorded.argv.length;
    } catch {
      return false;
    }
  };
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-recorded.pid, name);
    } catch {
      // the group is gone
    }
  };
  // Once it is known to be ours, wait for the process itself: an exiting process loses its
  // command line a moment before it closes its sockets, and a zombie holds none.
  const alive = () => isAlive(recorded.pid);
  if (running()) {
    signal('SIGTERM');
    for (let waited = 0; alive() && waited < 10_000; waited += 100) await sleep(100);
    if (alive()) signal('SIGKILL');
    for (let waited = 0; alive() && waited < 5_000; waited += 100) await sleep(100);
  }
  fs.rmSync(pidFile, { force: true });
}

/** The process exists and has not exited: a zombie (exited, not yet reaped by its parent) is not alive. */
export function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

/** Polls `ready` until it holds, failing early with the child's output if the child exits. */
export async function waitUntilReady(child: Child, what: string, ready: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null) {
      throw new Error(`${what} exited with code ${child.process.exitCode}:\n${child.output()}`);
    }
    if (await ready().catch(() => false)) return;
    await sleep(200);
  }
  await child.stop();
  throw new Error(`${what} was not ready after ${timeoutMs / 1000} s:\n${child.output()}`);
}
