import type { EmbeddedTemporal } from '../../src/embedded';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { testTemporal?: EmbeddedTemporal }).testTemporal?.stop();
}
