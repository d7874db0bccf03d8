import { spawn } from 'node:child_process';
import path from 'node:path';
import { startTestService } from './support/service';

test('when the API stops, then /readyz answers 503 draining for SHUTDOWN_DRAIN_MS before the listener closes', async () => {
  const service = await startTestService({ worker: false, overrides: { SHUTDOWN_DRAIN_MS: '2000' } });
  try {
    const stopping = service.api.stop();

    const response = await fetch(`${service.url}/readyz`);

    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'draining' });
    await stopping;
    await expect(fetch(`${service.url}/readyz`)).rejects.toThrow();
  } finally {
    await service.stop();
  }
});

test('when a part does not stop within the shutdown deadline, then the process ends anyway with exit code 1', async () => {
  const child = spawn(path.join(__dirname, '..', 'node_modules', '.bin', 'tsx'), [path.join(__dirname, 'support', 'hung-part.ts'), '500'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve()));

  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));

  expect(code).toBe(1);
});
