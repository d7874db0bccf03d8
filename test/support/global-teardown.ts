import type { Child } from '../../src/child-process';
import type { EmbeddedTemporal } from '../../src/embedded';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { testStripeMock?: Child }).testStripeMock?.stop();
  await (globalThis as { testTemporal?: EmbeddedTemporal }).testTemporal?.stop();
}
