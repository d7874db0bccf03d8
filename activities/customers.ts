import type { Db } from '../src/db';
import type { StripeEvent } from '../src/events';
import { invalidEvent } from '../src/failures';

/** Applies a customer event unless the stored row was changed by a newer event. */
export async function upsertCustomer(db: Db, event: StripeEvent): Promise<void> {
  const customer = event.data.object as Record<string, any>;
  if (customer.object !== 'customer' || typeof customer.id !== 'string') {
    throw invalidEvent(event, 'data.object is not a customer');
  }
  await db.query(
    `INSERT INTO customers (id, account, email, name, phone, address, deleted, source_created, source_event_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8), $9)
     ON CONFLICT (id) DO UPDATE SET
       account = EXCLUDED.account, email = EXCLUDED.email, name = EXCLUDED.name,
       phone = EXCLUDED.phone, address = EXCLUDED.address, deleted = EXCLUDED.deleted,
       source_created = EXCLUDED.source_created, source_event_id = EXCLUDED.source_event_id,
       updated_at = now()
     WHERE (customers.source_created, customers.source_event_id)
         < (EXCLUDED.source_created, EXCLUDED.source_event_id)`,
    [
      customer.id,
      event.account ?? null,
      customer.email ?? null,
      customer.name ?? null,
      customer.phone ?? null,
      customer.address ?? null,
      customer.deleted === true || event.type === 'customer.deleted',
      event.created,
      event.id,
    ],
  );
}
