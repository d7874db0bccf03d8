import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startChild, waitUntilReady, type Child } from '../../src/dev/child-process';
import { projectRoot, startTemporalDevServer, type EmbeddedTemporal } from '../../src/dev/embedded';
import { startTemporalCluster } from '../../src/dev/temporal-cluster';
import { testServerUrl } from './database';

/** Where the servers of a run are listed, so that the next run can stop them if this one was killed. */
const serversFile = path.join(projectRoot, '.data', 'test-servers.json');

/**
 * One Temporal server for the whole run; each test file uses its own task queue. The dev server,
 * or with TEST_TEMPORAL_CLUSTER=1 (`npm run test:cluster`) the Temporal server on PostgreSQL.
 */
export default async function globalSetup(): Promise<void> {
  // `.ci/run` runs the engine tests on the LTS the image carries: make sure they really do.
  const expected = process.env.TEST_NODE_VERSION;
  if (expected && process.version !== `v${expected}`) throw new Error(`TEST_NODE_VERSION=${expected}, but jest runs on Node.js ${process.version}`);
  stopLeftoverServers();
  const port = await freePort();
  const metricsPort = await freePort();
  const temporal =
    process.env.TEST_TEMPORAL_CLUSTER === '1' ? await startClusterEngine(metricsPort) : await startTemporalDevServer({ port, namespace: 'default', metricsPort });
  (globalThis as { testTemporal?: EmbeddedTemporal }).testTemporal = temporal;
  // Test workers are forked after this and inherit the environment.
  process.env.TEST_TEMPORAL_ADDRESS = temporal.address;
  process.env.TEST_TEMPORAL_METRICS_URL = `http://127.0.0.1:${metricsPort}/metrics`;

  // stripe-mock answers the whole Stripe API from fixtures, statelessly.
  const stripePort = await freePort();
  const stripeMock = startChild(path.join(projectRoot, '.tools', 'bin', 'stripe-mock'), ['-http-port', String(stripePort)]);
  (globalThis as { testStripeMock?: Child }).testStripeMock = stripeMock;
  process.env.TEST_STRIPE_API_BASE = `http://127.0.0.1:${stripePort}`;
  fs.mkdirSync(path.dirname(serversFile), { recursive: true });
  fs.writeFileSync(serversFile, JSON.stringify({ owner: process.pid, pids: [temporal.pid, stripeMock.process.pid] }));
  await waitUntilReady(stripeMock, 'stripe-mock', async () => {
    const response = await fetch(`${process.env.TEST_STRIPE_API_BASE}/v1/customers`, { headers: { authorization: 'Bearer sk_test_123' } });
    return response.ok;
  });
  // Which servers and which Node.js this run's suites use, for whoever reads a CI log.
  const engine = process.env.TEST_TEMPORAL_CLUSTER === '1' ? 'Temporal server on PostgreSQL' : 'Temporal dev server';
  process.stdout.write(`\ntest servers: ${engine} at ${temporal.address}, stripe-mock at ${process.env.TEST_STRIPE_API_BASE}; suites on Node.js ${process.version}\n`);
}

/** A fresh pair of databases per run, on the test PostgreSQL, four history shards. */
async function startClusterEngine(metricsPort: number): Promise<EmbeddedTemporal> {
  const port = await freePortRange();
  // The databases of this run's cluster; the teardown drops them.
  process.env.TEST_CLUSTER_DATABASE_PREFIX = `temporal_test_${process.pid}`;
  return startTemporalCluster({
    postgresUrl: testServerUrl,
    databasePrefix: process.env.TEST_CLUSTER_DATABASE_PREFIX,
    dataDir: path.join(projectRoot, '.data'),
    port,
    shards: 4,
    namespace: 'default',
    metricsPort,
  });
}

/**
 * The servers run detached (their own process groups), so a jest killed from outside leaves
 * them running. Stop what an earlier run listed once that run is gone (a run still going is
 * left alone), and only if it is still a Temporal dev server or stripe-mock (not a recycled pid).
 */
function stopLeftoverServers(): void {
  let listed: { owner: number; pids: number[] };
  try {
    listed = JSON.parse(fs.readFileSync(serversFile, 'utf8'));
  } catch {
    return;
  }
  if (isAlive(listed.owner)) return;
  for (const pid of listed.pids ?? []) {
    try {
      const command = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (/temporal|stripe-mock/.test(command)) process.kill(-pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  fs.rmSync(serversFile, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}


/** A base port whose next three, and those 100 above (membership), are free too. */
export async function freePortRange(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const base = 20_000 + Math.floor(Math.random() * 9_000);
    const ports = [0, 1, 2, 3].flatMap((offset) => [base + offset, base + 100 + offset]);
    if ((await Promise.all(ports.map(canListen))).every(Boolean)) return base;
  }
  throw new Error('no free range of ports for the Temporal cluster');
}

/**
 * Probed on every address, as the API binds its port: a port another process holds on any one
 * address would refuse it.
 */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

/**
 * Ports this process has handed out. A port is chosen free and bound later by another process,
 * so without this list two parts of one deployment could be given the same one, and the second
 * to bind it fails to start (a bench's API once failed with EADDRINUSE on a port chosen so).
 */
const handedOut = new Set<number>();

/**
 * A port free now, below the kernel's range for ports handed out on request (32768 and up): a
 * port from listen(0) is free again at once, and the next process asking the kernel for any
 * port may get it before the test binds it. The Temporal dev server asks for several as it
 * starts, and once took the one chosen for `npm start`'s mail sink that way.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const port = 10_000 + Math.floor(Math.random() * 10_000);
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error('no free port between 10000 and 19999');
}
