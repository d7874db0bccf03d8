import type Stripe from 'stripe';
import type { Queryable } from '../platform/db';
import { closeTotals, compareWithStripe, isStagedTransaction, stripeBalanceTransactions, type CloseReport, type CloseTotals } from '../platform/finance-report';
import { balanceTransactionsBetween, balanceTransactionWaits } from './balance-transactions';
import { netsBetween, netsOf, platformBooks } from './ledger';
import { disputeStatusesAwaitingAnswer } from './objects';
import { chargesNotBooked, type ChargeNotBooked } from './charges-not-booked';

/**
 * The close of [from, to) from the books, compared with Stripe's balance transactions when a key
 * is set: what the admin API answers and the daily digest sends. One set of books at a time (the
 * platform's, or a connected account's), as Stripe keeps one balance per account.
 */
export async function closeReport(db: Queryable, stripe: Stripe | undefined, period: { month: string; from: Date; to: Date }, books: { connectedAccount: string | null }): Promise<CloseReport> {
  const totals = closeTotals(await netsBetween(db, period.from, period.to, books));
  const inBooks = <T extends { account: string | null }>(rows: T[]) => rows.filter((row) => row.account === books.connectedAccount);
  const booked = inBooks(await balanceTransactionsBetween(db, period.from, period.to));
  const waits = inBooks(await balanceTransactionWaits(db, period.to));
  const notBooked = inBooks(await chargesNotBooked(db, period.to));
  let comparison: CloseReport['stripe_comparison'];
  if (!stripe) comparison = { checked: false, reason: 'STRIPE_SECRET_KEY is not set: Stripe\'s balance transactions cannot be listed' };
  else {
    const listed = await stripeBalanceTransactions(stripe, period.from, period.to, books.connectedAccount);
    const stagedNets = new Map<string, number>();
    for (const { sourceId, currency } of listed.filter(isStagedTransaction)) {
      // A payout that failed lists two transactions: its net is read once.
      const key = `${sourceId}:${currency}`;
      if (!stagedNets.has(key)) stagedNets.set(key, (await netsOf(db, sourceId, currency, ['payout', 'topup']))('stripe_balance'));
    }
    comparison = compareWithStripe(listed, booked, (sourceId, currency) => stagedNets.get(`${sourceId}:${currency}`) ?? 0);
  }
  return {
    month: period.month,
    totals,
    stripe_comparison: comparison,
    awaiting_fees: waits.map((wait) => ({ source_id: wait.sourceId, balance_transaction_id: wait.balanceTransactionId, currency: wait.currency, amount: wait.amount, since: wait.since })),
    charges_not_booked: notBooked.map(chargeNotBookedView),
  };
}

/** A charge not booked as the admin API and the close show it. */
export function chargeNotBookedView(charge: ChargeNotBooked): CloseReport['charges_not_booked'][number] {
  return { charge_id: charge.chargeId, payment_intent_id: charge.paymentIntentId, account: charge.account, currency: charge.currency, amount: charge.amount, since: charge.since, event_id: charge.sourceEventId };
}

/** What the daily digest tells finance about one day [from, to). */
export interface DayFigures {
  events: { status: string; count: number }[];
  payments: { currency: string; count: number; amount: number }[];
  /** The platform's credit notes whose documents were issued that day (voided since or not), per currency. */
  creditNotes: { currency: string; count: number; amount: number }[];
  totals: CloseTotals[];
  /** Events that ended failed and are still failed (whenever they arrived), oldest first, at most 20. */
  failedEvents: { id: string; type: string; last_error: string | null }[];
  failedEventCount: number;
  /** Dunning cases that ended without payment that day. */
  exhaustedDunning: { invoice_id: string; amount: number; currency: string }[];
  awaitingFees: number;
  /** Captured charges the books could not place (newer API versions without a key), whenever captured. */
  chargesNotBooked: number;
  /** Disputes (and inquiries) still waiting for an answer, whenever they opened, soonest due first: lost unless answered in time. */
  disputesToAnswer: { id: string; charge_id: string | null; amount: number | null; currency: string | null; due_by: Date | null; account: string | null }[];
  /** Connected accounts whose own books took entries that day, which the figures above leave out. */
  connectedBooks: { accounts: number; entries: number };
}


/**
 * The platform's books of [from, to): its payments, entries and waiting fees. A connected
 * account's sales are its own, kept in its own books (`closeReport`), and only counted here.
 */
export async function dayFigures(db: Queryable, from: Date, to: Date): Promise<DayFigures> {
  const [events, payments, creditNotes, nets, failed, exhausted, waits, connected, disputes, notBooked] = await Promise.all([
    db.query<{ status: string; count: number }>(
      'SELECT status, count(*)::int AS count FROM stripe_events WHERE received_at >= $1 AND received_at < $2 GROUP BY status ORDER BY status',
      [from, to],
    ),
    db.query<{ currency: string; count: number; amount: number }>(
      'SELECT currency, count(*)::int AS count, sum(amount)::float8 AS amount FROM payments WHERE paid_at >= $1 AND paid_at < $2 AND account IS NULL GROUP BY currency ORDER BY currency',
      [from, to],
    ),
    db.query<{ currency: string; count: number; amount: number }>(
      `SELECT n.currency, count(*)::int AS count, sum(n.amount)::float8 AS amount
         FROM documents d JOIN credit_notes n ON n.id = d.credit_note_id
        WHERE d.kind = 'credit_note' AND d.account = '' AND d.created_at >= $1 AND d.created_at < $2
        GROUP BY n.currency ORDER BY n.currency`,
      [from, to],
    ),
    netsBetween(db, from, to, platformBooks),
    db.query<{ id: string; type: string; last_error: string | null; total: number }>(
      "SELECT id, type, last_error, count(*) OVER ()::int AS total FROM stripe_events WHERE status = 'failed' ORDER BY received_at LIMIT 20",
    ),
    db.query<{ invoice_id: string; amount: number; currency: string }>(
      "SELECT invoice_id, amount::float8 AS amount, currency FROM dunning_cases WHERE status = 'exhausted' AND ended_at >= $1 AND ended_at < $2 ORDER BY ended_at",
      [from, to],
    ),
    balanceTransactionWaits(db, to),
    db.query<{ accounts: number; entries: number }>(
      'SELECT count(DISTINCT account)::int AS accounts, count(*)::int AS entries FROM ledger_entries WHERE occurred_at >= $1 AND occurred_at < $2 AND account IS NOT NULL',
      [from, to],
    ),
    db.query<DayFigures['disputesToAnswer'][number]>(
      `SELECT id, charge_id, amount::float8 AS amount, currency, due_by, account FROM disputes
        WHERE status IN (${disputeStatusesAwaitingAnswer.map((status) => `'${status}'`).join(', ')}) ORDER BY due_by NULLS LAST, id`,
    ),
    chargesNotBooked(db, to),
  ]);
  return {
    events: events.rows,
    payments: payments.rows,
    creditNotes: creditNotes.rows,
    totals: closeTotals(nets),
    failedEvents: failed.rows.map(({ id, type, last_error }) => ({ id, type, last_error })),
    failedEventCount: failed.rows[0]?.total ?? 0,
    exhaustedDunning: exhausted.rows,
    awaitingFees: waits.filter((wait) => wait.account === null).length,
    chargesNotBooked: notBooked.filter((charge) => charge.account === null).length,
    disputesToAnswer: disputes.rows,
    connectedBooks: connected.rows[0],
  };
}
