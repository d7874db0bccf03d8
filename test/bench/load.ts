import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from '../../src/platform/db';
import type { StripeEvent } from '../../src/platform/stripe-event';
import { signatureHeader } from '../support/stripe-events';

export interface Sent {
  /** Milliseconds from each request's scheduled send time to its answer (queueing included). */
  latenciesMs: number[];
  accepted: number;
  errors: number;
  /** Events a delivery of which was not accepted (a 503 under overload): Stripe would deliver them again. */
  refused: Map<string, StripeEvent>;
  /** Scheduled send time of each event's first delivery. */
  firstScheduled: Map<string, number>;
  startedAt: number;
  lastAnswerAt: number;
}

/**
 * Open loop at a fixed rate: request i is due at start + i / rate whether or not earlier ones
 * were answered, and its latency counts from that due time, so a slow server cannot hide its
 * queue (no coordinated omission).
 */
export async function sendAtRate(
  url: string,
  deliveries: { event: StripeEvent; copies: 1 | 2 }[],
  rate: number,
  /** Updated as answers arrive, for progress lines while the load runs. */
  progress: { answered: number } = { answered: 0 },
): Promise<Sent> {
  const sent: Sent = { latenciesMs: [], accepted: 0, errors: 0, refused: new Map(), firstScheduled: new Map(), startedAt: Date.now(), lastAnswerAt: 0 };
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < deliveries.length; i += 1) {
    const due = sent.startedAt + (i / rate) * 1000;
    if (due > Date.now()) await sleep(due - Date.now());
    const { event, copies } = deliveries[i];
    if (!sent.firstScheduled.has(event.id)) sent.firstScheduled.set(event.id, due);
    const send = async () => {
      const ok = await post(url, event).then((status) => status < 300, () => false);
      const now = Date.now();
      sent.latenciesMs.push(now - due);
      progress.answered += 1;
      sent.lastAnswerAt = Math.max(sent.lastAnswerAt, now);
      if (ok) sent.accepted += 1;
      else {
        sent.errors += 1;
        sent.refused.set(event.id, event);
      }
    };
    for (let copy = 0; copy < copies; copy += 1) inFlight.push(send());
  }
  await Promise.all(inFlight);
  return sent;
}

// Idle sockets are dropped before the API's keep-alive timeout (5 s) could close one under a request.
const agent = new http.Agent({ keepAlive: true, timeout: 4000 });

/**
 * One signed delivery, as Stripe sends it; its answer's status once the body has arrived.
 * Plain `http.request` on a keep-alive agent rather than `fetch`: on the bench machine `fetch`
 * took twice the time per request (1.8–2.2 against 0.8–1.2 ms at the median, idle) and twice
 * the sender's CPU, time the acknowledgement's latency counted against the service although it
 * is the load generator's, on the same two cores (BENCHMARKS.md).
 */
function post(url: string, event: StripeEvent): Promise<number> {
  const payload = JSON.stringify(event);
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${url}/webhooks/stripe`,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          'stripe-signature': signatureHeader(payload),
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Events of the given ids processed (or ignored) so far, with their processed-at times in ms. */
export async function processedTimes(db: Db, ids: string[]): Promise<Map<string, number>> {
  const { rows } = await db.query<{ id: string; at: number }>(
    `SELECT id, extract(epoch FROM processed_at) * 1000 AS at FROM stripe_events
      WHERE id = ANY($1) AND status IN ('processed', 'ignored')`,
    [ids],
  );
  return new Map(rows.map((row) => [row.id, Number(row.at)]));
}

/**
 * Delivers again, as Stripe does, each event a delivery of which was refused, until one is
 * accepted: an event answered 503 is the sender's to deliver again, and the bench waits for every
 * event to be processed.
 */
export async function redeliverRefused(url: string, refused: Iterable<StripeEvent>): Promise<void> {
  for (const event of refused) {
    while (!(await post(url, event).then((status) => status < 300, () => false))) await sleep(1000);
  }
}

/** Processed-at time (ms) of each event, once all are finished. */
export async function waitForProcessed(db: Db, ids: string[], timeoutMs = 20 * 60_000): Promise<Map<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const done = await processedTimes(db, ids);
    if (done.size === ids.length) return done;
    if (Date.now() > deadline) throw new Error(`only ${done.size} of ${ids.length} events processed`);
    await sleep(250);
  }
}
