import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { isAlive, stopLeftover } from '../src/dev/child-process';
import { lockFilePid } from '../src/dev/embedded';
import { freePort } from './support/global-setup';
import { deliver, stripeEvent, stripeObject } from './support/stripe-events';

// `npm start` as a user runs it: embedded PostgreSQL, Temporal dev server and mail sink,
// on free ports and in a data directory of its own.
jest.setTimeout(240_000);

const root = path.join(__dirname, '..');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-start-'));
let env: NodeJS.ProcessEnv;
/** Every `npm start` a case ran, for afterAll to stop those a failed case left running. */
const starts: ChildProcess[] = [];

beforeAll(async () => {
  env = {
    ...process.env,
    DATA_DIR: dataDir,
    PORT: String(await freePort()),
    EMBEDDED_POSTGRES_PORT: String(await freePort()),
    EMBEDDED_TEMPORAL_PORT: String(await freePort()),
    EMBEDDED_TEMPORAL_UI_PORT: String(await freePort()),
    EMBEDDED_SMTP_PORT: String(await freePort()),
    EMBEDDED_MAIL_UI_PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
  };
  for (const name of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'SMTP_URL', 'STRIPE_WEBHOOK_SECRET']) delete env[name];
});

afterAll(async () => {
  await stopWhatStartsLeft();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/**
 * A case that failed midway may leave `npm start`'s parts running (the SIGKILL case kills the
 * parent on purpose); stop them the way the next start would, so that a failure here does not
 * leave servers running into the rest of the suite.
 */
async function stopWhatStartsLeft(): Promise<void> {
  for (const child of starts) {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
  }
  await stopLeftover(path.join(dataDir, 'temporal.pid'));
  await stopLeftover(path.join(dataDir, 'mail-sink.pid'));
  const postmaster = leftoverPostmaster();
  if (postmaster !== undefined) {
    process.kill(postmaster, 'SIGINT'); // PostgreSQL's fast shutdown
    for (let waited = 0; isAlive(postmaster) && waited < 10_000; waited += 100) await sleep(100);
  }
}

/** The postmaster named in the data directory's lock file, when it still runs PostgreSQL. */
function leftoverPostmaster(): number | undefined {
  const pid = lockFilePid(path.join(dataDir, 'postgres'));
  if (pid === undefined || !isAlive(pid)) return undefined;
  return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres') ? pid : undefined;
}

interface Started {
  child: ChildProcess;
  output: () => string;
}

async function npmStart(): Promise<Started> {
  // Its own process group, so the test can press "Ctrl-C" on all of it at once.
  const child = spawn('npm', ['start'], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  starts.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const deadline = Date.now() + 120_000;
  while (!output.includes('stripe-workflows is running')) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`npm start did not come up:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { child, output: () => output };
}

async function pressCtrlC(started: Started): Promise<void> {
  const exited = new Promise((resolve) => started.child.once('exit', resolve));
  process.kill(-started.child.pid!, 'SIGINT');
  await exited;
}

function isListening(port: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: Number(port) }, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/**
 * The ports still open once everything had 20 s to stop. npm exits at once on Ctrl-C while
 * the service stops its parts in order, so this waits instead of reading the ports right away.
 */
async function portsLeftOpen(): Promise<string[]> {
  const names = ['PORT', 'EMBEDDED_POSTGRES_PORT', 'EMBEDDED_TEMPORAL_PORT', 'EMBEDDED_TEMPORAL_UI_PORT', 'EMBEDDED_SMTP_PORT', 'EMBEDDED_MAIL_UI_PORT'];
  const deadline = Date.now() + 20_000;
  for (;;) {
    const open = await Promise.all(names.map((name) => isListening(env[name])));
    const left = names.filter((_, i) => open[i]);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function eventStatus(eventId: string): Promise<string | undefined> {
  const db = new Client({ connectionString: `postgres://postgres:postgres@127.0.0.1:${env.EMBEDDED_POSTGRES_PORT}/stripe_workflows` });
  await db.connect();
  try {
    const { rows } = await db.query('SELECT status FROM stripe_events WHERE id = $1', [eventId]);
    return rows[0]?.status;
  } finally {
    await db.end();
  }
}

async function waitForStatus(eventId: string, status: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await eventStatus(eventId)) !== status) {
    if (Date.now() > deadline) throw new Error(`event ${eventId} never became ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

test('when npm start runs, then a signed event is processed, Ctrl-C stops everything, and a second start finds the data again', async () => {
  const first = await npmStart();
  const secret = fs.readFileSync(path.join(dataDir, 'webhook-secret'), 'utf8').trim();
  const event = stripeEvent('customer.created', stripeObject('customer'));
  const baseUrl = `http://localhost:${env.PORT}`;

  const answer = await deliver(baseUrl, event, { secret });
  await waitForStatus(event.id, 'processed');
  await pressCtrlC(first);
  const stillListening = await portsLeftOpen();

  expect(answer.status).toBe(200);
  expect(first.output()).toContain(`POST ${baseUrl}/webhooks/stripe`);
  expect(first.output()).toContain(`http://localhost:${env.EMBEDDED_TEMPORAL_UI_PORT}`);
  expect(first.output()).toContain(`http://localhost:${env.EMBEDDED_MAIL_UI_PORT}`);
  expect(first.output()).toContain(secret);
  expect(stillListening).toEqual([]);
  // Only this user may read the data: as root, others may pass through to PostgreSQL's own directory.
  const privateMode = process.getuid?.() === 0 ? 0o711 : 0o700;
  expect(fs.statSync(dataDir).mode & 0o777).toBe(privateMode);
  expect(fs.statSync(path.join(dataDir, 'mail')).mode & 0o777).toBe(0o700);
  expect(fs.statSync(path.join(dataDir, 'webhook-secret')).mode & 0o777).toBe(0o600);

  const second = await npmStart();
  const redelivery = await deliver(baseUrl, event, { secret });
  await pressCtrlC(second);

  expect(redelivery.body).toEqual({ received: true, eventId: event.id, duplicate: true });
  expect(second.output()).not.toContain(secret);
  expect(second.output()).toContain(path.join(dataDir, 'webhook-secret'));
  expect(await portsLeftOpen()).toEqual([]);
});

test('when npm start is killed with SIGKILL, then the next start stops what the first left running, becomes ready, and Ctrl-C leaves nothing listening', async () => {
  const first = await npmStart();
  const exited = new Promise((resolve) => first.child.once('exit', resolve));
  process.kill(-first.child.pid!, 'SIGKILL');
  await exited;

  const second = await npmStart();
  const secret = fs.readFileSync(path.join(dataDir, 'webhook-secret'), 'utf8').trim();
  const event = stripeEvent('customer.created', stripeObject('customer'));
  const answer = await deliver(`http://localhost:${env.PORT}`, event, { secret });
  await waitForStatus(event.id, 'processed');
  await pressCtrlC(second);

  expect(answer.status).toBe(200);
  expect(await portsLeftOpen()).toEqual([]);
});
