import type { Queryable } from '../platform/db';

export interface ConnectedAccount {
  id: string;
  business_name: string | null;
  display_name: string | null;
  support_email: string | null;
  support_address: Record<string, string | null> | null;
  country: string | null;
}

/** A connected account as its latest `account.updated` event (or a lookup, before any came) described it. */
export async function connectedAccountOf(db: Queryable, id: string): Promise<ConnectedAccount | undefined> {
  const { rows } = await db.query<ConnectedAccount>(
    'SELECT id, business_name, display_name, support_email, support_address, country FROM connected_accounts WHERE id = $1',
    [id],
  );
  return rows[0];
}

/**
 * Keeps what Stripe's API answered for an account no event had described (it has no event id):
 * only when no row exists, and any `account.updated` newer than the lookup replaces it.
 */
export async function rememberConnectedAccount(db: Queryable, account: ConnectedAccount, lookedUpAt: Date): Promise<void> {
  await db.query(
    `INSERT INTO connected_accounts (id, business_name, display_name, support_email, support_address, country, account, source_created, source_event_id)
     VALUES ($1, $2, $3, $4, $5, $6, $1, $7, NULL) ON CONFLICT (id) DO NOTHING`,
    [account.id, account.business_name, account.display_name, account.support_email, account.support_address, account.country, lookedUpAt],
  );
}
