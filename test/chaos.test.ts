import { spawn } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../src/dev/embedded';

// `npm run chaos`, smaller: 120 events instead of 2,000 and the worker killed twice instead of
// four times; the API, PostgreSQL and Temporal once each, as there. Its own process, as it
// starts servers of its own (embedded PostgreSQL, a Temporal dev server with a SQLite file).
test('when processes are killed and servers restarted while events arrive, then the accounting is exact', async () => {
  const run = spawn(path.join(projectRoot, 'node_modules', '.bin', 'tsx'), ['test/chaos/run.ts'], {
    cwd: projectRoot,
    env: { ...process.env, CHAOS_EVENTS: '120', CHAOS_RATE: '5', CHAOS_WORKER_KILLS: '2' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  run.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  run.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));

  const code = await new Promise<number | null>((resolve) => run.once('exit', resolve));

  if (code !== 0) console.log(output);
  expect(code).toBe(0);
  expect(output).toMatch(/published 120 = processed 120 \+ missing 0/);
  expect(output).toContain('exact: nothing lost, nothing doubled');
}, 400_000);
