import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
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
  /** A smaller share of the CPU than the processes beside it (`spawnWithCpuShare`); 0, the default, leaves it equal. */
  nice?: number;
}

const failureReason = /^(panic|fatal error|Error):/;

export function startChild(command: string, args: string[], options: ChildOptions = {}): Child {
  const { pidFile, nice = 0, ...spawnOptions } = options;
  // A process group of its own: Ctrl-C in the terminal reaches only us, and we stop it in order.
  const child = spawnWithCpuShare(nice, command, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
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

/**
 * Spawns a process with a smaller share of the CPU than the processes beside it when `nice` is
 * above 0 (up to 19), as a container's lower `cpu_shares` gives it: while the cores are busy it
 * runs after them, and it has them all when they are idle. The worker gets this beside the
 * API, so that when the machine is saturated its backlog grows (durably, in Temporal) instead
 * of Stripe's acknowledgements slowing (BENCHMARKS.md).
 *
 * Linux shares the CPU first between sessions where autogroups are on (the default of most
 * distributions' kernels) and only then between a session's threads by their nice values; a
 * `detached` child leads a session of its own. So both are set: every thread's nice value
 * (`nice`, before the process starts threads of its own) and its session's
 * (`/proc/<pid>/autogroup`, where the kernel has one).
 */
export function spawnWithCpuShare(nice: number, command: string, args: string[], options: SpawnOptions): ChildProcess {
  if (nice <= 0) return spawn(command, args, options);
  const child = spawn('nice', ['-n', String(nice), command, ...args], options);
  if (child.pid && options.detached) setSessionNice(child.pid, nice);
  return child;
}

function setSessionNice(pid: number, nice: number, attempt = 1): void {
  try {
    fs.writeFileSync(`/proc/${pid}/autogroup`, String(nice));
  } catch (err) {
    // Linux lets unprivileged users set a session's nice value once per 100 ms between them all.
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN' && attempt < 5) {
      setTimeout(() => setSessionNice(pid, nice, attempt + 1), 150 * attempt).unref();
    }
    // Otherwise no autogroups here (or the process is gone): the threads' nice values are what counts.
  }
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
