import { withTransaction, type Db, type Queryable } from '../platform/db';

export type Account =
  | 'accounts_receivable'
  | 'revenue'
  | 'tax_payable'
  | 'stripe_balance'
  | 'refunds'
  | 'dispute_losses'
  | 'bad_debt';

export interface LedgerLine {
  account: Account;
  currency: string;
  debit?: number;
  credit?: number;
}

export interface Posting {
  /** Unique per cause, e.g. `invoice:in_123:recognized`: posting it again does nothing. */
  sourceKey: string;
  kind: string;
  reference: string;
  description: string;
  occurredAt: Date;
  eventId?: string;
  lines: LedgerLine[];
}

export type PostingResult = 'posted' | 'already_posted' | 'nothing_to_post';

/** Posts an entry once per source key; the database refuses it unless it balances per currency. */
export async function post(db: Db, posting: Posting): Promise<PostingResult> {
  return withTransaction(db, (tx) => postInTransaction(tx, posting));
}

/** `post` inside the caller's transaction (which must not be the pool: the lines follow the entry). */
export async function postInTransaction(tx: Queryable, posting: Posting): Promise<PostingResult> {
  const lines = posting.lines.filter((line) => (line.debit ?? 0) > 0 || (line.credit ?? 0) > 0);
  // A zero amount (a free invoice, a zero refund) is not an accounting event.
  if (lines.length === 0) return 'nothing_to_post';
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO ledger_entries (source_key, kind, reference, description, occurred_at, event_id)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (source_key) DO NOTHING RETURNING id`,
    [posting.sourceKey, posting.kind, posting.reference, posting.description, posting.occurredAt, posting.eventId ?? null],
  );
  if (rows.length === 0) return 'already_posted';
  await tx.query(
    `INSERT INTO ledger_lines (entry_id, account, currency, debit, credit)
     SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[])`,
    [
      rows[0].id,
      lines.map((line) => line.account),
      lines.map((line) => line.currency),
      lines.map((line) => line.debit ?? 0),
      lines.map((line) => line.credit ?? 0),
    ],
  );
  return 'posted';
}

/**
 * Serialises postings about one reference (a charge) until the transaction ends, so that
 * reading what was posted and posting the difference cannot interleave with another event's.
 */
export async function lockReference(tx: Queryable, reference: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`ledger:${reference}`]);
}

/** The source keys among these that have an entry. */
export async function postedKeys(db: Queryable, sourceKeys: string[]): Promise<Set<string>> {
  const { rows } = await db.query<{ source_key: string }>('SELECT source_key FROM ledger_entries WHERE source_key = ANY($1)', [sourceKeys]);
  return new Set(rows.map((row) => row.source_key));
}

/** The sum already posted to one account for entries about a reference (e.g. a charge). */
export async function postedAmount(db: Queryable, reference: string, kind: string, account: Account): Promise<number> {
  const { rows } = await db.query<{ amount: number }>(
    `SELECT coalesce(sum(l.debit - l.credit), 0)::float8 AS amount
       FROM ledger_lines l JOIN ledger_entries e ON e.id = l.entry_id
      WHERE e.reference = $1 AND e.kind = $2 AND l.account = $3`,
    [reference, kind, account],
  );
  return rows[0].amount;
}

export interface TrialBalance {
  accounts: { account: Account; currency: string; debit: number; credit: number }[];
  totals: { currency: string; debit: number; credit: number }[];
  balanced: boolean;
}

export async function trialBalance(db: Db): Promise<TrialBalance> {
  const { rows: accounts } = await db.query(
    `SELECT account, currency, sum(debit)::float8 AS debit, sum(credit)::float8 AS credit
       FROM ledger_lines GROUP BY account, currency ORDER BY currency, account`,
  );
  const { rows: totals } = await db.query(
    `SELECT currency, sum(debit)::float8 AS debit, sum(credit)::float8 AS credit
       FROM ledger_lines GROUP BY currency ORDER BY currency`,
  );
  return { accounts, totals, balanced: totals.every((t) => t.debit === t.credit) };
}
