import type { Queryable } from '../platform/db';

/** A Stripe balance transaction as booked: amounts in minor units of the settlement currency. */
export interface BalanceTransaction {
  id: string;
  sourceId: string;
  type: string;
  /** The connected account whose balance it is; null: the platform's. */
  account: string | null;
  currency: string;
  amount: number;
  fee: number;
  net: number;
  exchangeRate: number | null;
  created: Date;
}

/** Money whose balance transaction (and so its fee) is not booked yet. */
export interface BalanceTransactionWait {
  sourceId: string;
  balanceTransactionId: string;
  account: string | null;
  currency: string;
  amount: number;
  since: Date;
}

/** Keeps the balance transaction as booked (the first report of it), and ends any wait for it. */
export async function recordBalanceTransaction(tx: Queryable, bt: BalanceTransaction): Promise<void> {
  await tx.query(
    `INSERT INTO balance_transactions (id, source_id, type, account, currency, amount, fee, net, exchange_rate, created)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING`,
    [bt.id, bt.sourceId, bt.type, bt.account, bt.currency, bt.amount, bt.fee, bt.net, bt.exchangeRate, bt.created],
  );
  await tx.query('DELETE FROM balance_transaction_waits WHERE source_id = $1', [bt.sourceId]);
}

/** Notes that the money of `sourceId` waits for its balance transaction, unless it is booked already. */
export async function awaitBalanceTransaction(tx: Queryable, wait: BalanceTransactionWait): Promise<void> {
  await tx.query(
    `INSERT INTO balance_transaction_waits (source_id, balance_transaction_id, account, currency, amount, since)
     SELECT $1, $2, $3, $4, $5, $6
      WHERE NOT EXISTS (SELECT 1 FROM balance_transactions WHERE id = $2 OR source_id = $1)
     ON CONFLICT (source_id) DO NOTHING`,
    [wait.sourceId, wait.balanceTransactionId, wait.account, wait.currency, wait.amount, wait.since],
  );
}

const columns = `id, source_id AS "sourceId", type, account, currency, amount::float8 AS amount, fee::float8 AS fee,
                 net::float8 AS net, exchange_rate::float8 AS "exchangeRate", created`;

/** The booked balance transactions created in [from, to), oldest first. */
export async function balanceTransactionsBetween(db: Queryable, from: Date, to: Date): Promise<BalanceTransaction[]> {
  const { rows } = await db.query<BalanceTransaction>(
    `SELECT ${columns} FROM balance_transactions WHERE created >= $1 AND created < $2 ORDER BY created, id`,
    [from, to],
  );
  return rows;
}

/** What still waits for its balance transaction, oldest first (those since before `before` when given). */
export async function balanceTransactionWaits(db: Queryable, before?: Date): Promise<BalanceTransactionWait[]> {
  const { rows } = await db.query<BalanceTransactionWait>(
    `SELECT source_id AS "sourceId", balance_transaction_id AS "balanceTransactionId", account, currency,
            amount::float8 AS amount, since
       FROM balance_transaction_waits WHERE $1::timestamptz IS NULL OR since < $1 ORDER BY since, source_id`,
    [before ?? null],
  );
  return rows;
}

/** Where the furthest status of each payout and top-up is kept. */
const stageTables = {
  payout: { table: 'payout_stages', key: 'payout_id' },
  topup: { table: 'topup_stages', key: 'topup_id' },
} as const;

/**
 * Moves the payout or top-up to `status` unless it already reached one as far (`rank`); answers
 * whether it moved. Takes the row's lock, so one object's events book one after another.
 */
export async function advanceStage(tx: Queryable, object: keyof typeof stageTables, id: string, status: string, rank: number): Promise<boolean> {
  const { table, key } = stageTables[object];
  const { rowCount } = await tx.query(
    `INSERT INTO ${table} (${key}, status, rank) VALUES ($1, $2, $3)
     ON CONFLICT (${key}) DO UPDATE SET status = excluded.status, rank = excluded.rank WHERE ${table}.rank < excluded.rank`,
    [id, status, rank],
  );
  return rowCount === 1;
}
