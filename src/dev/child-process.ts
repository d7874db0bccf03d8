import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/** A helper process (Temporal dev server, mail sink) that `npm start` owns and stops. */
export interface Child {
  process: ChildProcess;
  /** The last lines it printed, to explain a failed start. */
  output(): string;
  stop(): Promise<void>;
}

export function startChild(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Child {
  // A process group of its own: Ctrl-C in the terminal reaches only us, and we stop it in order.
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - 20));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    process: child,
    output: () => lines.join('\n'),
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
