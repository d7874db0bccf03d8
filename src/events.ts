import type { Db } from './db';

/** A verified Stripe event as the webhook stores it. */
export interface StripeEvent {
  id: string;
  type: string;
  api_version?: string | null;
  created: number;
  livemode: boolean;
  account?: string;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
}

export type EventStatus = 'received' | 'processing' | 'processed' | 'failed' | 'ignored';

/** The Stripe objects an event is about, used to find its executions and rows. */
export interface EventRefs {
  customerId: string | null;
  invoiceId: string | null;
  subscriptionId: string | null;
}

/** The id of a Stripe reference, whether it came as an id string or as an expanded object. */
export function idOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string') {
    return (value as { id: string }).id;
  }
  return null;
}

export function eventRefs(event: StripeEvent): EventRefs {
  const object = event.data.object as Record<string, any>;
  const own = (kind: string) => (object.object === kind ? idOf(object.id) : null);
  return {
    customerId: own('customer') ?? idOf(object.customer),
    invoiceId: own('invoice') ?? idOf(object.invoice),
    // Older API versions put it on the invoice itself, newer ones under `parent`.
    subscriptionId:
      own('subscription') ??
      idOf(object.subscription) ??
      idOf(object.parent?.subscription_details?.subscription),
  };
}

export interface StoredEvent {
  id: string;
  type: string;
  status: EventStatus;
  attempts: number;
  last_error: string | null;
  workflow_id: string | null;
  run_id: string | null;
  accepted_at: Date | null;
}

/** Stores the event unless its id is already known; returns the stored row either way. */
export async function insertEvent(db: Db, event: StripeEvent): Promise<StoredEvent> {
  const refs = eventRefs(event);
  const { rows } = await db.query<StoredEvent>(
    `WITH inserted AS (
       INSERT INTO stripe_events (id, type, api_version, livemode, account, created,
                                  customer_id, invoice_id, subscription_id, payload)
       VALUES ($1, $2, $3, $4, $5, to_timestamp($6), $7, $8, $9, $10)
       ON CONFLICT (id) DO NOTHING
       RETURNING id, type, status, attempts, last_error, workflow_id, run_id, accepted_at)
     SELECT * FROM inserted
     UNION ALL
     SELECT id, type, status, attempts, last_error, workflow_id, run_id, accepted_at
       FROM stripe_events WHERE id = $1`,
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
      event,
    ],
  );
  // A concurrent delivery that inserted first commits after this statement's snapshot.
  return rows[0] ?? (await getEvent(db, event.id))!;
}

/** Records that the workflow exists. False when another delivery recorded it first. */
export async function markAccepted(db: Db, eventId: string, workflowId: string, runId: string): Promise<boolean> {
  const result = await db.query(
    `UPDATE stripe_events SET accepted_at = now(), workflow_id = $2, run_id = $3
      WHERE id = $1 AND accepted_at IS NULL`,
    [eventId, workflowId, runId],
  );
  return result.rowCount === 1;
}

export async function getEvent(db: Db, eventId: string): Promise<StoredEvent | undefined> {
  const { rows } = await db.query<StoredEvent>(
    `SELECT id, type, status, attempts, last_error, workflow_id, run_id, accepted_at
       FROM stripe_events WHERE id = $1`,
    [eventId],
  );
  return rows[0];
}

export async function loadEventPayload(db: Db, eventId: string): Promise<StripeEvent> {
  const { rows } = await db.query<{ payload: StripeEvent | null }>('SELECT payload FROM stripe_events WHERE id = $1', [
    eventId,
  ]);
  if (rows.length === 0) throw new Error(`event ${eventId} is not stored`);
  if (rows[0].payload === null) throw new Error(`event ${eventId} has no payload any more (cleaned up)`);
  return rows[0].payload;
}

export async function markProcessing(db: Db, eventId: string, runId: string): Promise<void> {
  await db.query(
    `UPDATE stripe_events SET status = 'processing', attempts = attempts + 1, run_id = $2, last_error = NULL
      WHERE id = $1`,
    [eventId, runId],
  );
}

export async function markFinished(
  db: Db,
  eventId: string,
  status: Extract<EventStatus, 'processed' | 'ignored' | 'failed'>,
  error?: string,
): Promise<void> {
  await db.query(
    `UPDATE stripe_events SET status = $2, last_error = $3, processed_at = now() WHERE id = $1`,
    [eventId, status, error ?? null],
  );
}

export interface Delivery {
  remoteAddr: string | undefined;
  httpStatus: number;
  outcome: string;
  eventId?: string;
}

export async function recordDelivery(db: Db, delivery: Delivery): Promise<void> {
  await db.query(
    'INSERT INTO webhook_deliveries (remote_addr, http_status, outcome, event_id) VALUES ($1, $2, $3, $4)',
    [delivery.remoteAddr ?? null, delivery.httpStatus, delivery.outcome, delivery.eventId ?? null],
  );
}
