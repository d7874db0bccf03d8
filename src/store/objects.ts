import type { Db, Queryable } from '../platform/db';
import type { StripeEvent } from '../platform/stripe-event';

export type ObjectTable = 'payment_methods' | 'setup_intents' | 'payment_intents' | 'charges' | 'invoices' | 'connected_accounts' | 'disputes';

/**
 * Stores a Stripe object's latest known state: the row changes only when this event is newer
 * (by `created`, then event id) than the one that wrote it last. Table and column names come
 * from code, never from input.
 */
export async function upsertLatest(
  db: Db,
  table: ObjectTable,
  id: string,
  fields: Record<string, unknown>,
  event: StripeEvent,
): Promise<boolean> {
  const withAccount = { ...fields, account: event.account ?? null };
  const names = Object.keys(withAccount);
  const values = Object.values(withAccount);
  const { rowCount } = await db.query(
    `INSERT INTO ${table} (id, ${names.join(', ')}, source_created, source_event_id)
     VALUES ($1, ${names.map((_, i) => `$${i + 2}`).join(', ')}, to_timestamp($${names.length + 2}), $${names.length + 3})
     ON CONFLICT (id) DO UPDATE SET ${names.map((name) => `${name} = EXCLUDED.${name}`).join(', ')},
       source_created = EXCLUDED.source_created, source_event_id = EXCLUDED.source_event_id
     WHERE (${table}.source_created, ${table}.source_event_id) < (EXCLUDED.source_created, EXCLUDED.source_event_id)`,
    [id, ...values, event.created, event.id],
  );
  return rowCount === 1;
}

/** A stored charge's amount and payment intent (undefined when no charge event reached us). */
export async function storedCharge(db: Queryable, chargeId: string): Promise<{ amount: number | null; currency: string | null; paymentIntentId: string | null } | undefined> {
  const { rows } = await db.query<{ amount: number | null; currency: string | null; paymentIntentId: string | null }>(
    'SELECT amount::float8 AS amount, currency, payment_intent_id AS "paymentIntentId" FROM charges WHERE id = $1',
    [chargeId],
  );
  return rows[0];
}
