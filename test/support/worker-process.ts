import { spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { projectRoot } from '../../src/dev/embedded';
import type { TestService } from './service';

/** `npm run worker` as its own process, on the test service's database, task queue and SMTP server. */
export interface WorkerProcess {
  /** Everything it wrote to stdout (its pino log), line by line. */
  lines: string[];
  stop(): Promise<void>;
}

export async function startWorkerProcess(
  service: TestService,
  env: Record<string, string>,
  ready: (lines: string[]) => Promise<boolean>,
  /** What runs: `npm run worker` by default, or e.g. the compiled build with node. */
  command: [string, ...string[]] = [path.join(projectRoot, 'node_modules', '.bin', 'tsx'), 'src/main/worker.ts'],
): Promise<WorkerProcess> {
  const { config } = service;
  const child = spawn(command[0], command.slice(1), {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: config.DATABASE_URL,
      TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS,
      TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
      SMTP_URL: service.smtp.url,
      ...env,
    },
  });
  const lines: string[] = [];
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop()!;
    lines.push(...parts.filter(Boolean));
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const deadline = Date.now() + 60_000;
  while (!(await ready(lines).catch(() => false))) {
    if (child.exitCode !== null) throw new Error(`the worker exited with ${child.exitCode}:\n${stderr}`);
    if (Date.now() > deadline) throw new Error(`the worker was not ready after 60 s:\n${stderr}`);
    await sleep(200);
  }
  return {
    lines,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
