import net from 'node:net';
import path from 'node:path';
import { startChild, waitUntilReady, type Child } from '../../src/child-process';
import { projectRoot, startTemporalDevServer, type EmbeddedTemporal } from '../../src/embedded';

/** One Temporal dev server for the whole run; each test file uses its own task queue. */
export default async function globalSetup(): Promise<void> {
  const port = await freePort();
  const temporal = await startTemporalDevServer({ port, namespace: 'default' });
  (globalThis as { testTemporal?: EmbeddedTemporal }).testTemporal = temporal;
  // Test workers are forked after this and inherit the environment.
  process.env.TEST_TEMPORAL_ADDRESS = temporal.address;

  // stripe-mock answers the whole Stripe API from fixtures, statelessly.
  const stripePort = await freePort();
  const stripeMock = startChild(path.join(projectRoot, '.tools', 'bin', 'stripe-mock'), ['-http-port', String(stripePort)]);
  (globalThis as { testStripeMock?: Child }).testStripeMock = stripeMock;
  process.env.TEST_STRIPE_API_BASE = `http://127.0.0.1:${stripePort}`;
  await waitUntilReady(stripeMock, 'stripe-mock', async () => {
    const response = await fetch(`${process.env.TEST_STRIPE_API_BASE}/v1/customers`, { headers: { authorization: 'Bearer sk_test_123' } });
    return response.ok;
  });
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
