import type { Queryable } from '../platform/db';

export interface RefundFailure {
  refundId: string;
  chargeId: string;
  amount: number;
  /** When Stripe reported it (the event's `created`). */
  failedAt: Date;
}

/** Remembers that a refund failed (once; the first report's time is kept). */
export async function recordRefundFailure(db: Queryable, failure: RefundFailure): Promise<void> {
  await db.query(
    'INSERT INTO refund_failures (refund_id, charge_id, amount, failed_at) VALUES ($1, $2, $3, $4) ON CONFLICT (refund_id) DO NOTHING',
    [failure.refundId, failure.chargeId, failure.amount, failure.failedAt],
  );
}

/** The refunds of a charge known to have failed. */
export async function refundFailuresOf(db: Queryable, chargeId: string): Promise<RefundFailure[]> {
  const { rows } = await db.query<{ refund_id: string; charge_id: string; amount: number; failed_at: Date }>(
    'SELECT refund_id, charge_id, amount::float8 AS amount, failed_at FROM refund_failures WHERE charge_id = $1',
    [chargeId],
  );
  return rows.map((row) => ({ refundId: row.refund_id, chargeId: row.charge_id, amount: row.amount, failedAt: row.failed_at }));
}
