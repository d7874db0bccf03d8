import type { Queryable } from '../platform/db';

/** A captured charge the books could not place (see migration 036). */
export interface ChargeNotBooked {
  chargeId: string;
  paymentIntentId: string | null;
  account: string | null;
  currency: string;
  amount: number;
  since: Date;
  sourceEventId: string;
}

export async function listChargeNotBooked(db: Queryable, charge: ChargeNotBooked): Promise<void> {
  await db.query(
    `INSERT INTO charges_not_booked (charge_id, payment_intent_id, account, currency, amount, since, source_event_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (charge_id) DO NOTHING`,
    [charge.chargeId, charge.paymentIntentId, charge.account, charge.currency, charge.amount, charge.since, charge.sourceEventId],
  );
}

/** The charge is placed (booked as a sale, or known to pay an invoice): off the list. */
export async function chargePlaced(db: Queryable, chargeId: string): Promise<void> {
  await db.query('DELETE FROM charges_not_booked WHERE charge_id = $1', [chargeId]);
}

/** What an invoice payment paid with pays an invoice: its charges are off the list. */
export async function chargesPayingInvoicePlaced(db: Queryable, paymentIntentId: string | null, chargeId: string | null): Promise<void> {
  await db.query('DELETE FROM charges_not_booked WHERE payment_intent_id = $1 OR charge_id = $2', [paymentIntentId, chargeId]);
}

const columns = `charge_id AS "chargeId", payment_intent_id AS "paymentIntentId", account, currency, amount::float8 AS amount, since, source_event_id AS "sourceEventId"`;

/** The charges not booked, captured before `before` when given, oldest first; at most `limit`. */
export async function chargesNotBooked(db: Queryable, before?: Date, limit?: number): Promise<ChargeNotBooked[]> {
  const { rows } = await db.query<ChargeNotBooked>(
    `SELECT ${columns} FROM charges_not_booked WHERE $1::timestamptz IS NULL OR since < $1 ORDER BY since, charge_id LIMIT $2`,
    [before ?? null, limit ?? null],
  );
  return rows;
}

export async function chargeNotBooked(db: Queryable, chargeId: string): Promise<ChargeNotBooked | undefined> {
  const { rows } = await db.query<ChargeNotBooked>(`SELECT ${columns} FROM charges_not_booked WHERE charge_id = $1`, [chargeId]);
  return rows[0];
}

export async function countChargesNotBooked(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ count: number }>('SELECT count(*)::int AS count FROM charges_not_booked');
  return rows[0].count;
}
