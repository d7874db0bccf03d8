import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from './support/service';

// Recorded executions of the dunning workflow (see test/record-histories.ts). A change to the
// workflow that would break executions already running in production fails here: guard it
// with patched() or keep it compatible.
const dir = path.join(__dirname, 'fixtures', 'histories');
const histories = fs.readdirSync(dir).filter((file) => file.startsWith('dunning-') && file.endsWith('.json'));

test('when replay fixtures exist, then there are histories of both endings', () => {
  expect(histories.some((file) => file.includes('exhausted'))).toBe(true);
  expect(histories.some((file) => file.includes('recovered'))).toBe(true);
});

test.each(histories)('when %s is replayed against the current workflow code, then it is deterministic', async (file) => {
  const history = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));

  await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file)).resolves.toBeUndefined();
});
