import type { Db } from '../platform/db';

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

/** Deliveries of the last hours by outcome, and whether the outcome was a failure (not 2xx). */
export async function deliveryOutcomes(db: Db, hours: number): Promise<{ outcome: string; failed: boolean; count: number }[]> {
  const { rows } = await db.query<{ outcome: string; failed: boolean; count: number }>(
    `SELECT outcome, http_status >= 300 AS failed, count(*)::int AS count
       FROM webhook_deliveries WHERE received_at > now() - make_interval(hours => $1)
      GROUP BY outcome, failed`,
    [hours],
  );
  return rows;
}

/** Forgets deliveries older than the retention; the log only serves the last day's health and recent forensics. */
export async function pruneDeliveries(db: Db, retentionDays: number): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM webhook_deliveries WHERE received_at < now() - make_interval(days => $1)', [retentionDays]);
  return rowCount ?? 0;
}
