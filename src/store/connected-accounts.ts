import type { Queryable } from '../platform/db';

export interface ConnectedAccount {
  id: string;
  business_name: string | null;
  display_name: string | null;
  support_email: string | null;
  support_address: Record<string, string | null> | null;
  country: string | null;
}

/** A connected account as its latest `account.updated` event described it, if one came. */
export async function connectedAccountOf(db: Queryable, id: string): Promise<ConnectedAccount | undefined> {
  const { rows } = await db.query<ConnectedAccount>(
    'SELECT id, business_name, display_name, support_email, support_address, country FROM connected_accounts WHERE id = $1',
    [id],
  );
  return rows[0];
}
