import net from 'node:net';
import { startTemporalDevServer, type EmbeddedTemporal } from '../../src/embedded';

/** One Temporal dev server for the whole run; each test file uses its own task queue. */
export default async function globalSetup(): Promise<void> {
  const port = await freePort();
  const temporal = await startTemporalDevServer({ port, namespace: 'default' });
  (globalThis as { testTemporal?: EmbeddedTemporal }).testTemporal = temporal;
  // Test workers are forked after this and inherit the environment.
  process.env.TEST_TEMPORAL_ADDRESS = temporal.address;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
