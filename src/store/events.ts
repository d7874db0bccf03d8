import { ApplicationFailure } from '@temporalio/common';
import type { Db, Queryable } from '../platform/db';
import { FailureType } from '../../workflows/contracts';
import { eventRefs, type EventRefs, type StripeEvent } from '../platform/stripe-event';

export type EventStatus = 'received' | 'processing' | 'processed' | 'failed' | 'ignored';

export interface StoredEvent {
  id: string;
  type: string;
  status: EventStatus;
  attempts: number;
  last_error: string | null;
  workflow_id: string | null;
  run_id: string | null;
  customer_id: string | null;
  invoice_id: string | null;
  subscription_id: string | null;
  received_at: Date;
  accepted_at: Date | null;
  processed_at: Date | null;
}

const eventColumns = `id, type, status, attempts, last_error, workflow_id, run_id, customer_id, invoice_id,
  subscription_id, received_at, accepted_at, processed_at`;

/** Stores the event unless its id is already known, with the objects it is about (by default those its payload names). */
export async function insertEvent(db: Db, event: StripeEvent, refs: EventRefs = eventRefs(event)): Promise<void> {
  await db.query(
    `INSERT INTO stripe_events (id, type, api_version, livemode, account, created,
                                customer_id, invoice_id, subscription_id, payload)
     VALUES ($1, $2, $3, $4, $5, to_timestamp($6), $7, $8, $9, $10)
     ON CONFLICT (id) DO NOTHING`,
    [
      event.id,
      event.type,
      event.api_version ?? null,
      event.livemode,
      event.account ?? null,
      event.created,
      refs.customerId,
      refs.invoiceId,
      refs.subscriptionId,
      storablePayload(event),
    ],
  );
}

/**
 * The payload as jsonb takes it. PostgreSQL refuses the NUL character (`\u0000`) and half a
 * surrogate pair (`\ud800` alone), which text a customer typed into a Stripe object may hold;
 * refused, the event would be answered 503 on every delivery until Stripe gives up. Such
 * characters are stored as U+FFFD instead. JSON.stringify writes both as escapes, and nothing
 * else as these, so other events are only searched, not rebuilt.
 */
function storablePayload(event: StripeEvent): string {
  const json = JSON.stringify(event);
  return /\\u(0000|d[89a-f])/.test(json) ? JSON.stringify(storableValue(event)) : json;
}

/** A lone surrogate: a high one not followed by a low one, or a low one without its high one. */
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const storableText = (text: string) => text.replaceAll('\0', '\ufffd').replace(loneSurrogate, '\ufffd');

function storableValue(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (Array.isArray(value)) return value.map(storableValue);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [storableText(key), storableValue(item)]));
}

export async function getEvent(db: Db, eventId: string): Promise<StoredEvent | undefined> {
  const { rows } = await db.query<StoredEvent>(`SELECT ${eventColumns} FROM stripe_events WHERE id = $1`, [eventId]);
  return rows[0];
}

/**
 * A retry's new run exists; until it starts processing the event shows as `received` again, with
 * no finishing time (the failed run's is not the new run's). A new run that got further first
 * keeps what it wrote.
 */
export async function markRetried(db: Db, eventId: string, workflowId: string, runId: string): Promise<void> {
  await db.query(
    `UPDATE stripe_events
        SET run_id = $3, workflow_id = $2, accepted_at = coalesce(accepted_at, now()),
            processed_at = CASE WHEN status IN ('failed', 'received') THEN NULL ELSE processed_at END,
            status = CASE WHEN status IN ('failed', 'received') THEN 'received' ELSE status END
      WHERE id = $1`,
    [eventId, workflowId, runId],
  );
}

export async function loadEventPayload(db: Db, eventId: string): Promise<StripeEvent> {
  const { rows } = await db.query<{ payload: StripeEvent | null }>('SELECT payload FROM stripe_events WHERE id = $1', [
    eventId,
  ]);
  if (rows.length === 0) throw new Error(`event ${eventId} is not stored`);
  if (rows[0].payload === null) {
    // Retrying cannot bring it back: an operator reset a run of an event older than the cleanup.
    throw ApplicationFailure.nonRetryable(`event ${eventId} has no payload any more (cleaned up)`, FailureType.PayloadCleanedUp);
  }
  return rows[0].payload;
}

/** An event's payload while it is kept (`POST /admin/cleanup` drops old ones): null once dropped or never stored. */
export async function keptEventPayload(db: Queryable, eventId: string): Promise<StripeEvent | null> {
  const { rows } = await db.query<{ payload: StripeEvent | null }>('SELECT payload FROM stripe_events WHERE id = $1', [eventId]);
  return rows[0]?.payload ?? null;
}

/**
 * A run begins: the event is accepted (its workflow exists, and later deliveries are answered
 * duplicate from here on) and processing. False when the row is not there (yet).
 */
export async function markProcessing(db: Db, eventId: string, runId: string): Promise<boolean> {
  const result = await db.query(
    `UPDATE stripe_events
        SET status = 'processing', attempts = attempts + 1, workflow_id = id, run_id = $2, last_error = NULL,
            accepted_at = coalesce(accepted_at, now())
      WHERE id = $1`,
    [eventId, runId],
  );
  return result.rowCount === 1;
}

/** Records the outcome; returns how long the event took from its first delivery, for metrics. */
export async function markFinished(
  db: Db,
  eventId: string,
  status: Extract<EventStatus, 'processed' | 'ignored' | 'failed'>,
  error?: string,
): Promise<{ type: string; seconds: number } | undefined> {
  const { rows } = await db.query<{ type: string; seconds: number }>(
    `UPDATE stripe_events SET status = $2, last_error = $3, processed_at = now() WHERE id = $1
     RETURNING type, extract(epoch FROM processed_at - received_at)::float8 AS seconds`,
    [eventId, status, error ?? null],
  );
  return rows[0];
}

export interface EventFilter {
  status?: EventStatus;
  type?: string;
  customer?: string;
  /** The `seq` of the last event of the previous page. */
  before?: number;
  limit: number;
}

/** Newest first. */
export async function listEvents(db: Db, filter: EventFilter): Promise<(StoredEvent & { seq: number })[]> {
  const { rows } = await db.query(
    `SELECT seq::float8 AS seq, ${eventColumns}
       FROM stripe_events
      WHERE ($1::text IS NULL OR status = $1)
        AND ($2::text IS NULL OR type = $2)
        AND ($3::text IS NULL OR customer_id = $3)
        AND ($4::bigint IS NULL OR seq < $4)
      ORDER BY seq DESC
      LIMIT $5`,
    [filter.status ?? null, filter.type ?? null, filter.customer ?? null, filter.before ?? null, filter.limit],
  );
  return rows;
}

export interface EventStats {
  window_seconds: number;
  total: number;
  by_type: { type: string; status: EventStatus; count: number }[];
  /** Failed among the finished events; null when none finished. */
  failure_rate: number | null;
  /** From the first delivery to the end of processing, in milliseconds. */
  processing_ms: { p50: number | null; p95: number | null };
}

export async function eventStats(db: Db, windowSeconds: number): Promise<EventStats> {
  const since = `now() - make_interval(secs => $1)`;
  const { rows: byType } = await db.query<{ type: string; status: EventStatus; count: number }>(
    `SELECT type, status, count(*)::int AS count FROM stripe_events
      WHERE received_at > ${since} GROUP BY type, status ORDER BY type, status`,
    [windowSeconds],
  );
  const { rows: [times] } = await db.query<{ p50: number | null; p95: number | null }>(
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) AS p95
       FROM (SELECT extract(epoch FROM processed_at - received_at) * 1000 AS ms FROM stripe_events
              WHERE received_at > ${since} AND status IN ('processed', 'ignored')) AS done`,
    [windowSeconds],
  );
  const count = (statuses: EventStatus[]) =>
    byType.filter((row) => statuses.includes(row.status)).reduce((sum, row) => sum + row.count, 0);
  const finished = count(['processed', 'ignored', 'failed']);
  return {
    window_seconds: windowSeconds,
    total: byType.reduce((sum, row) => sum + row.count, 0),
    by_type: byType,
    failure_rate: finished === 0 ? null : count(['failed']) / finished,
    processing_ms: {
      p50: times.p50 === null ? null : Math.round(times.p50),
      p95: times.p95 === null ? null : Math.round(times.p95),
    },
  };
}

/**
 * Drops the raw payloads of finished events older than the given days. Failed and unfinished
 * events keep theirs (a retry needs it); payments, documents, the ledger and every derived row
 * are other tables and stay.
 */
export async function dropOldPayloads(db: Db, olderThanDays: number): Promise<number> {
  const result = await db.query(
    `UPDATE stripe_events SET payload = NULL
      WHERE payload IS NOT NULL AND status IN ('processed', 'ignored')
        AND received_at < now() - make_interval(days => $1)`,
    [olderThanDays],
  );
  return result.rowCount ?? 0;
}

/**
 * The connected accounts named by events stored after `afterSeq` (arrival order), and the last
 * `seq` read: reconcile's way of learning of new accounts without reading the whole table.
 */
export async function connectedAccountsSince(db: Queryable, afterSeq: number): Promise<{ accounts: string[]; upToSeq: number | null }> {
  const { rows } = await db.query<{ accounts: string[] | null; up_to_seq: string | null }>(
    `SELECT array_agg(DISTINCT account) FILTER (WHERE account IS NOT NULL) AS accounts, max(seq) AS up_to_seq
       FROM stripe_events WHERE seq > $1`,
    [afterSeq],
  );
  return { accounts: rows[0].accounts ?? [], upToSeq: rows[0].up_to_seq === null ? null : Number(rows[0].up_to_seq) };
}

/**
 * Of these connected accounts, those that took the platform's access away: their latest
 * `account.application.*` event stored is `deauthorized` (a later `authorized` gives it back).
 */
export async function deauthorizedAccounts(db: Queryable, accounts: string[]): Promise<Set<string>> {
  const { rows } = await db.query<{ account: string }>(
    `SELECT account FROM (
       SELECT DISTINCT ON (account) account, type FROM stripe_events
        WHERE type IN ('account.application.authorized', 'account.application.deauthorized') AND account = ANY($1)
        ORDER BY account, created DESC, seq DESC) latest
      WHERE type = 'account.application.deauthorized'`,
    [accounts],
  );
  return new Set(rows.map((row) => row.account));
}
