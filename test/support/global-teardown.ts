import fs from 'node:fs';
import path from 'node:path';
import type { Child } from '../../src/dev/child-process';
import { projectRoot, type EmbeddedTemporal } from '../../src/dev/embedded';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { testStripeMock?: Child }).testStripeMock?.stop();
  await (globalThis as { testTemporal?: EmbeddedTemporal }).testTemporal?.stop();
  fs.rmSync(path.join(projectRoot, '.data', 'test-servers.json'), { force: true });
}
