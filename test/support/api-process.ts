import { spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { projectRoot } from '../../src/dev/embedded';
import { freePort } from './global-setup';
import type { TestService } from './service';
import { testSecret } from './stripe-events';

/** `npm run api` as its own OS process, on the test service's database and task queue. */
export interface ApiProcess {
  url: string;
  stop(): Promise<void>;
}

export async function startApiProcess(
  service: TestService,
  /** What runs: `npm run api` by default, or e.g. the compiled build with node. */
  command: [string, ...string[]] = [path.join(projectRoot, 'node_modules', '.bin', 'tsx'), 'src/main/api.ts'],
): Promise<ApiProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(command[0], command.slice(1), {
    cwd: projectRoot,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      DATABASE_URL: service.config.DATABASE_URL,
      TEMPORAL_ADDRESS: service.config.TEMPORAL_ADDRESS,
      TEMPORAL_TASK_QUEUE: service.config.TEMPORAL_TASK_QUEUE,
      STRIPE_WEBHOOK_SECRET: testSecret,
    },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const deadline = Date.now() + 60_000;
  while (!(await fetch(`${url}/readyz`).then((r) => r.ok, () => false))) {
    if (child.exitCode !== null) throw new Error(`the API exited with ${child.exitCode}:\n${stderr}`);
    if (Date.now() > deadline) throw new Error(`the API was not ready after 60 s:\n${stderr}`);
    await sleep(200);
  }
  return {
    url,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
