import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { createDb, type Db } from '../../src/platform/db';
import type { StripeEvent } from '../../src/platform/stripe-event';
import { startDeployment, type Engine, type ServiceCode, type ServiceProcess } from '../support/deployment';
import { deliver } from '../support/stripe-events';
import type { CountingSmtp } from '../support/smtp';
import { buildWorkload, type Workload } from './workload';

export interface ChaosOptions {
  events: number;
  workerKills: number;
  /** Deliveries in flight at once. */
  concurrency?: number;
  /** Deliveries started per second, so that the faults land while events arrive. */
  rate: number;
  /** The dev server (default), or the Temporal server on PostgreSQL. */
  engine?: Engine;
  /** The build (default), or the TypeScript through tsx. */
  code?: ServiceCode;
  log?: (line: string) => void;
}

export interface ChaosReport {
  lines: string[];
  differences: string[];
}

/**
 * One scripted run: the service as separate API and worker processes on embedded PostgreSQL,
 * a Temporal dev server with a SQLite file and an SMTP server that counts. Events are sent
 * like Stripe sends them (again until a 2xx) while the worker is SIGKILLed several times, the
 * API once, and PostgreSQL and Temporal are restarted once each. The report is the accounting
 * of what must exist against what does.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const say = options.log ?? (() => undefined);
  const workload = buildWorkload(options.events);
  const engine = options.engine ?? 'dev';
  const deployment = await startDeployment({ name: 'chaos', engine, code: options.code, env: { DUNNING_SCHEDULE: '0s,1h' } });
  const { apiUrl, smtp, api, worker } = deployment;
  say(`chaos: ${workload.unique.length} events, ${workload.deliveries.length} deliveries, logs in ${deployment.dir}`);
  const db = createDb(deployment.databaseUrl, 4);

  try {
    const faults: [number, string, () => Promise<void>][] = [
      ...Array.from({ length: options.workerKills }, (_, i): [number, string, () => Promise<void>] => [
        (i + 1) / (options.workerKills + 1) - 0.05,
        'SIGKILL the worker',
        () => worker.killAndRestart(),
      ]),
      [0.3, 'SIGKILL the API', () => api.killAndRestart()],
      [0.5, 'restart PostgreSQL', () => deployment.restartPostgres()],
      [
        0.7,
        engine === 'cluster' ? 'restart the Temporal server process (state in PostgreSQL)' : 'restart the Temporal dev server (same SQLite file)',
        () => deployment.restartTemporal(),
      ],
    ];
    faults.sort((a, b) => a[0] - b[0]);

    const sending = sendAll(apiUrl, workload, options.concurrency ?? 8, options.rate);
    for (const [at, name, fault] of faults) {
      while (sending.progress() < at && !sending.finished()) await sleep(50);
      const [started, progress] = [Date.now(), Math.round(sending.progress() * 100)];
      await fault();
      say(`chaos: ${name} at ${progress} % of deliveries (back after ${Date.now() - started} ms)`);
    }
    const sent = await sending.done;
    say(`chaos: all deliveries answered 2xx (${sent.attempts} attempts, ${sent.refused} refused or unanswered on the way)`);

    await waitForQuiet(db, smtp, workload, sent.published.size);
    return await account(db, smtp, workload, sent.published, deployment.temporalAddress, { api, worker });
  } finally {
    await db.end();
    await deployment.stop();
  }
}

interface Sending {
  progress(): number;
  finished(): boolean;
  done: Promise<{ published: Set<string>; attempts: number; refused: number }>;
}

/** Delivers like Stripe: each delivery again, with backoff, until it is answered 2xx. */
function sendAll(apiUrl: string, workload: Workload, concurrency: number, rate: number): Sending {
  const startedAt = Date.now();
  const published = new Set<string>();
  let next = 0;
  let completed = 0;
  let attempts = 0;
  let refused = 0;

  const deliverOnce = async (event: StripeEvent): Promise<void> => {
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      attempts += 1;
      // Connection refused or reset while the API is down counts as refused: Stripe would retry too.
      const answer = await deliver(apiUrl, event).catch(() => undefined);
      if (answer && answer.status < 300) {
        published.add(event.id);
        return;
      }
      refused += 1;
      await sleep(delay);
    }
  };

  const lane = async () => {
    while (next < workload.deliveries.length) {
      const index = next++;
      const { event, copies } = workload.deliveries[index];
      const due = startedAt + (index / rate) * 1000;
      if (due > Date.now()) await sleep(due - Date.now());
      await Promise.all(Array.from({ length: copies }, () => deliverOnce(event)));
      completed += 1;
    }
  };
  const done = Promise.all(Array.from({ length: concurrency }, lane)).then(() => ({ published, attempts, refused }));
  return {
    progress: () => completed / workload.deliveries.length,
    finished: () => completed === workload.deliveries.length,
    done,
  };
}

/**
 * Until every published event is finished and the expected emails arrived and are recorded as
 * sent, or nothing moves for 90 s (longer than any activity timeout or sending lease).
 */
async function waitForQuiet(db: Db, smtp: Pick<CountingSmtp, 'messageIds'>, workload: Workload, published: number): Promise<void> {
  let last = '';
  let lastChange = Date.now();
  for (;;) {
    const { rows } = await db
      .query<{ finished: number; marked: number }>(
        `SELECT (SELECT count(*)::int FROM stripe_events WHERE status IN ('processed', 'ignored', 'failed')) AS finished,
                (SELECT count(*)::int FROM email_outbox WHERE status = 'sent') AS marked`,
      )
      .catch(() => ({ rows: [{ finished: -1, marked: -1 }] }));
    const { finished, marked } = rows[0];
    // Distinct Message-IDs: a message re-sent after a crash must not end the wait early. The
    // mail server has a message before the worker records it as sent, so both are awaited.
    const emails = new Set(smtp.messageIds).size;
    const state = `${finished}/${emails}/${marked}`;
    if (finished >= published && emails >= workload.expected.emails && marked >= workload.expected.emails) return;
    if (state !== last) [last, lastChange] = [state, Date.now()];
    if (Date.now() - lastChange > 90_000) return;
    await sleep(250);
  }
}

async function account(
  db: Db,
  smtp: Pick<CountingSmtp, 'messageIds'>,
  workload: Workload,
  published: Set<string>,
  temporalAddress: string,
  processes: { api: ServiceProcess; worker: ServiceProcess },
): Promise<ChaosReport> {
  const lines: string[] = [];
  const differences: string[] = [];
  const check = (what: string, expected: number | string, found: number | string, note = '') => {
    lines.push(`${what.padEnd(26)} expected ${String(expected).padStart(6)}   found ${String(found).padStart(6)}${note ? `   ${note}` : ''}`);
    if (expected !== found) differences.push(`${what}: expected ${expected}, found ${found}`);
  };
  const count = async (sql: string) => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${sql}) AS counted`)).rows[0].n;

  const { rows: statuses } = await db.query<{ id: string; status: string }>('SELECT id, status FROM stripe_events');
  const statusOf = new Map(statuses.map((row) => [row.id, row.status]));
  const processed = [...published].filter((id) => statusOf.get(id) === 'processed').length;
  const missing = [...published].filter((id) => statusOf.get(id) !== 'processed');
  lines.push(`events: ${workload.unique.length} unique, ${workload.deliveries.length} deliveries`);
  lines.push(`published ${published.size} = processed ${processed} + missing ${missing.length}`);
  if (published.size !== workload.unique.length) differences.push(`published ${published.size} of ${workload.unique.length} unique events`);
  if (missing.length > 0) differences.push(`missing: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}`);

  const { expected } = workload;
  check('payments', expected.payments, await count('SELECT 1 FROM payments'));
  check('documents', expected.documents, await count('SELECT 1 FROM documents'));
  const uniqueMessages = new Set(smtp.messageIds).size;
  const resent = smtp.messageIds.length - uniqueMessages;
  check('emails (at the SMTP server)', expected.emails, uniqueMessages, resent ? `and ${resent} re-sent with the same Message-ID` : '');
  check('emails marked sent', expected.emails, await count(`SELECT 1 FROM email_outbox WHERE status = 'sent'`));
  check('dunning notices', expected.dunningNotices, await count(`SELECT 1 FROM email_outbox WHERE key LIKE 'dunning:%:notice:1' AND status = 'sent'`));
  check('ledger entries', expected.ledgerEntries, await count('SELECT 1 FROM ledger_entries'));
  const { rows: unbalanced } = await db.query(`SELECT currency FROM ledger_lines GROUP BY currency HAVING sum(debit) <> sum(credit)`);
  check('unbalanced currencies', 0, unbalanced.length);
  const { rows: subscriptions } = await db.query<{ id: string; status: string }>(`SELECT id, status FROM subscriptions WHERE id LIKE 'sub_chaos_%'`);
  const stale = subscriptions.filter((row) => expected.subscriptionStatus.get(row.id) !== row.status).length;
  check('subscriptions', expected.subscriptionStatus.size, subscriptions.length);
  check('subscriptions not newest', 0, stale);

  const connection = await Connection.connect({ address: temporalAddress });
  try {
    const client = new Client({ connection });
    const executions = await waitForCount(client, `WorkflowType = 'processStripeEvent'`, workload.unique.length);
    check('event executions', workload.unique.length, executions);
  } finally {
    await connection.close();
  }
  lines.push(`restarts by the supervisor after unplanned exits: api ${processes.api.crashes}, worker ${processes.worker.crashes}`);
  return { lines, differences };
}

async function waitForCount(client: Client, query: string, expected: number): Promise<number> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { count } = await client.workflow.count(query);
    if (count === expected || Date.now() > deadline) return count;
    await sleep(250);
  }
}
