import type { DunningOutcome } from '../../workflows/contracts';
import type { Db } from '../platform/db';

export interface DunningCase {
  invoice_id: string;
  customer_id: string | null;
  customer_email: string | null;
  subscription_id: string | null;
  amount: number;
  currency: string;
  hosted_invoice_url: string | null;
  /** The connected account the invoice belongs to (Connect), null for the platform's own. */
  account: string | null;
  /** The connected account a platform's invoice is presented as (`on_behalf_of`), whose name signs the emails. */
  presented_as: string | null;
  /** What put the invoice in dunning: a failed payment, or an invoice the customer pays by themselves gone past its due date. */
  opened_by: 'payment_failed' | 'overdue';
  status: 'open' | DunningOutcome;
  stage: string | null;
  /** When `customer_email` was copied (the invoice's finalization; cases opened before this was kept: their start). */
  email_as_of: Date;
}

const columns = `invoice_id, customer_id, customer_email, subscription_id, amount::float8 AS amount, currency,
  hosted_invoice_url, account, presented_as, opened_by, status, stage, coalesce(email_as_of, started_at) AS email_as_of`;

export interface PaymentFailure {
  eventId: string;
  invoiceId: string;
  attemptCount: number | null;
  reason: string | null;
  nextPaymentAttempt: Date | null;
  failedAt: Date;
}

export async function recordPaymentFailure(db: Db, failure: PaymentFailure): Promise<void> {
  await db.query(
    `INSERT INTO payment_failures (event_id, invoice_id, attempt_count, reason, next_payment_attempt, failed_at)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING`,
    [failure.eventId, failure.invoiceId, failure.attemptCount, failure.reason, failure.nextPaymentAttempt, failure.failedAt],
  );
}

/** Opens the case unless it exists; a case that has ended (e.g. paid) is returned as it is. */
export async function openDunningCase(db: Db, opening: Omit<DunningCase, 'status' | 'stage'>): Promise<DunningCase> {
  const { rows } = await db.query<DunningCase>(
    `INSERT INTO dunning_cases (invoice_id, customer_id, customer_email, subscription_id, amount, currency, hosted_invoice_url, account, presented_as, opened_by, email_as_of)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (invoice_id) DO NOTHING RETURNING ${columns}`,
    [
      opening.invoice_id,
      opening.customer_id,
      opening.customer_email,
      opening.subscription_id,
      opening.amount,
      opening.currency,
      opening.hosted_invoice_url,
      opening.account,
      opening.presented_as,
      opening.opened_by,
      opening.email_as_of,
    ],
  );
  return rows[0] ?? (await getDunningCase(db, opening.invoice_id))!;
}

export async function getDunningCase(db: Db, invoiceId: string): Promise<DunningCase | undefined> {
  const { rows } = await db.query<DunningCase>(`SELECT ${columns} FROM dunning_cases WHERE invoice_id = $1`, [invoiceId]);
  return rows[0];
}

export async function setDunningStage(db: Db, invoiceId: string, stage: string, nextStepAt: Date | null): Promise<void> {
  await db.query(`UPDATE dunning_cases SET stage = $2, next_step_at = $3 WHERE invoice_id = $1 AND status = 'open'`, [
    invoiceId,
    stage,
    nextStepAt,
  ]);
}

/** Ends an open case; false when it had ended already. */
export async function endDunningCase(db: Db, invoiceId: string, outcome: DunningOutcome, reason: string | null = null): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE dunning_cases SET status = $2, ended_reason = $3, ended_at = now(), next_step_at = NULL WHERE invoice_id = $1 AND status = 'open'`,
    [invoiceId, outcome, reason],
  );
  return rowCount === 1;
}

/** An open case asks for what is still due after a part was paid; an older payload (more due) changes nothing. */
export async function lowerDunningAmount(db: Db, invoiceId: string, stillDue: number): Promise<void> {
  await db.query(`UPDATE dunning_cases SET amount = $2 WHERE invoice_id = $1 AND status = 'open' AND amount > $2 AND $2 > 0`, [invoiceId, stillDue]);
}

/** Ends the case of an invoice settled outside dunning, creating a closed one if none exists yet. */
export async function settleDunningCase(db: Db, invoiceId: string, outcome: Exclude<DunningOutcome, 'exhausted'>, amount: number, currency: string) {
  await db.query(
    `INSERT INTO dunning_cases (invoice_id, amount, currency, status, ended_at) VALUES ($1, $2, $3, $4, now())
     ON CONFLICT (invoice_id) DO UPDATE SET status = EXCLUDED.status, ended_at = now(), next_step_at = NULL
       WHERE dunning_cases.status = 'open'`,
    [invoiceId, amount, currency, outcome],
  );
}
