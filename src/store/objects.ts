import type { Queryable } from '../platform/db';
import type { StripeEvent } from '../platform/stripe-event';

export type ObjectTable = 'payment_methods' | 'setup_intents' | 'payment_intents' | 'charges' | 'invoices' | 'connected_accounts' | 'disputes';

/**
 * Stores a Stripe object's latest known state: the row changes only when this event is newer
 * by `created` than the one that wrote it last, or, given `over`, when the state stored came from
 * that event of the same second (a tie settled by `storeLatest`). Table and column names come
 * from code, never from input.
 */
export async function upsertLatest(
  db: Queryable,
  table: ObjectTable,
  id: string,
  fields: Record<string, unknown>,
  event: StripeEvent,
  over?: string,
): Promise<boolean> {
  const withAccount = { ...fields, account: event.account ?? null };
  const names = Object.keys(withAccount);
  const values = Object.values(withAccount);
  const { rowCount } = await db.query(
    `INSERT INTO ${table} (id, ${names.join(', ')}, source_created, source_event_id)
     VALUES ($1, ${names.map((_, i) => `$${i + 2}`).join(', ')}, to_timestamp($${names.length + 2}), $${names.length + 3})
     ON CONFLICT (id) DO UPDATE SET ${names.map((name) => `${name} = EXCLUDED.${name}`).join(', ')},
       source_created = EXCLUDED.source_created, source_event_id = EXCLUDED.source_event_id
     WHERE ${table}.source_created < EXCLUDED.source_created
        OR (${table}.source_created = EXCLUDED.source_created AND ${table}.source_event_id = $${names.length + 4})`,
    [id, ...values, event.created, event.id, over ?? null],
  );
  return rowCount === 1;
}

/**
 * The event that last changed a stored object, customer or subscription (Unix seconds and id),
 * when one did (a row only filled in, by a checkout or a lookup, has none).
 */
export async function objectSource(db: Queryable, table: ObjectTable | 'customers' | 'subscriptions', id: string): Promise<{ created: number; eventId: string } | undefined> {
  const { rows } = await db.query<{ created: number; event_id: string }>(
    `SELECT extract(epoch FROM source_created)::int AS created, source_event_id AS event_id FROM ${table} WHERE id = $1 AND source_created IS NOT NULL AND source_event_id IS NOT NULL`,
    [id],
  );
  return rows[0] && { created: rows[0].created, eventId: rows[0].event_id };
}

/** A stored charge's amount and payment intent (undefined when no charge event reached us). */
export async function storedCharge(db: Queryable, chargeId: string): Promise<{ amount: number | null; currency: string | null; paymentIntentId: string | null } | undefined> {
  const { rows } = await db.query<{ amount: number | null; currency: string | null; paymentIntentId: string | null }>(
    'SELECT amount::float8 AS amount, currency, payment_intent_id AS "paymentIntentId" FROM charges WHERE id = $1',
    [chargeId],
  );
  return rows[0];
}

/**
 * Whether the books saw the charge refunded in full or disputed: what, as Stripe defines it, makes
 * an early fraud warning about it no longer actionable.
 */
export async function isChargeRefundedOrDisputed(db: Queryable, chargeId: string): Promise<boolean> {
  const { rows } = await db.query<{ settled: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM charges WHERE id = $1 AND (refunded OR (amount > 0 AND amount_refunded >= amount)))
         OR EXISTS (SELECT 1 FROM disputes WHERE charge_id = $1) AS settled`,
    [chargeId],
  );
  return rows[0].settled;
}

/** What the platform refunded of an application fee a connected account paid on one of its charges. */
export interface FeeRefund {
  feeId: string;
  payerAccount: string;
  chargeId: string;
  currency: string;
  /** What the platform refunded of the fee so far (it only grows). */
  refunded: number;
}

/**
 * Keeps what the platform refunded of a fee: the greatest amount any of its events reported (it
 * only grows), so that two events of the same second, whose order by event id is arbitrary,
 * cannot leave the smaller one.
 */
export async function keepFeeRefund(db: Queryable, refund: FeeRefund, event: Pick<StripeEvent, 'id' | 'created'>): Promise<void> {
  await db.query(
    `INSERT INTO application_fees (id, payer_account, charge_id, currency, amount_refunded, source_created, source_event_id)
     VALUES ($1, $2, $3, $4, $5, to_timestamp($6), $7)
     ON CONFLICT (id) DO UPDATE SET amount_refunded = EXCLUDED.amount_refunded, source_created = EXCLUDED.source_created, source_event_id = EXCLUDED.source_event_id
     WHERE application_fees.amount_refunded < EXCLUDED.amount_refunded`,
    [refund.feeId, refund.payerAccount, refund.chargeId, refund.currency, refund.refunded, event.created, event.id],
  );
}

/** The fees a connected account paid on its charge of which the platform refunded something. */
export async function refundedFeesOn(db: Queryable, chargeId: string, payerAccount: string): Promise<FeeRefund[]> {
  const { rows } = await db.query<FeeRefund>(
    `SELECT id AS "feeId", payer_account AS "payerAccount", charge_id AS "chargeId", currency, amount_refunded::float8 AS refunded
       FROM application_fees WHERE charge_id = $1 AND payer_account = $2 AND amount_refunded > 0 ORDER BY id`,
    [chargeId, payerAccount],
  );
  return rows;
}

/** A dispute as its latest event left it (undefined when no dispute event reached us). */
export interface StoredDispute {
  id: string;
  chargeId: string | null;
  amount: number | null;
  currency: string | null;
  status: string | null;
  reason: string | null;
  dueBy: Date | null;
}

/**
 * A dispute's statuses while its answer is awaited: unanswered by its due date, it is lost. The
 * digest's query lists them literally, as the partial index on them (migration 030) does.
 */
export const disputeStatusesAwaitingAnswer = ['needs_response', 'warning_needs_response'] as const;

export const isAwaitingAnswer = (status: string) => (disputeStatusesAwaitingAnswer as readonly string[]).includes(status);

/** A dispute's statuses once it has ended: decided, an inquiry closed, stopped before it was filed (`prevented`), or refunded (`charge_refunded`, older API versions). */
export const disputeStatusesClosed = ['won', 'lost', 'warning_closed', 'prevented', 'charge_refunded'];

export const isDisputeClosed = (status: string) => disputeStatusesClosed.includes(status);

export async function storedDispute(db: Queryable, disputeId: string): Promise<StoredDispute | undefined> {
  const { rows } = await db.query<StoredDispute>(
    `SELECT id, charge_id AS "chargeId", amount::float8 AS amount, currency, status, reason, due_by AS "dueBy"
       FROM disputes WHERE id = $1`,
    [disputeId],
  );
  return rows[0];
}
