import { ApplicationFailure } from '@temporalio/common';
import { type Db, type Queryable } from '../platform/db';
import { FailureType } from '../../workflows/contracts';
import type { JournalRow } from '../platform/finance-report';
import type { StripeEvent } from '../platform/stripe-event';
import type { Payment } from './payments';

export type Account =
  | 'accounts_receivable'
  | 'revenue'
  | 'tax_payable'
  | 'stripe_balance'
  | 'refunds'
  | 'dispute_losses'
  | 'bad_debt'
  | 'customer_balance'
  | 'out_of_band_payments'
  | 'stripe_fees'
  | 'fx_conversion'
  | 'payouts_in_transit'
  | 'bank'
  | 'application_fees'
  | 'connected_account_transfers'
  | 'platform_fees'
  | 'customer_balance_adjustments';

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
  /** The connected account whose books these are (the event's `account`); null: the platform's. */
  connectedAccount: string | null;
  description: string;
  occurredAt: Date;
  eventId?: string;
  lines: LedgerLine[];
}

/** What caused an entry: the event, and the books (connected account) it is about. */
export type EntrySource = Pick<Posting, 'eventId' | 'connectedAccount'>;

export function sourceOf(event: Pick<StripeEvent, 'id' | 'account'>): EntrySource {
  return { eventId: event.id, connectedAccount: event.account ?? null };
}

/** A payment's entries are caused by the event that recorded it. */
export function sourceOfPayment(payment: Pick<Payment, 'source_event_id' | 'account'>): EntrySource {
  return { eventId: payment.source_event_id, connectedAccount: payment.account };
}

/** Lines moving `amount` into `debit` out of `credit`; a negative amount moves it the other way. */
export function transfer(debit: Account, credit: Account, currency: string, amount: number): LedgerLine[] {
  return amount >= 0
    ? [{ account: debit, currency, debit: amount }, { account: credit, currency, credit: amount }]
    : [{ account: debit, currency, credit: -amount }, { account: credit, currency, debit: -amount }];
}

/**
 * Lines from amounts that may be below zero, each on the side its sign says: an invoice that
 * credits the customer (a downgrade's proration, a negative total) moves revenue, tax and the
 * receivable the other way.
 */
export function onTheirSides(lines: LedgerLine[]): LedgerLine[] {
  return lines.map(({ account, currency, debit = 0, credit = 0 }) => (debit - credit >= 0 ? { account, currency, debit: debit - credit } : { account, currency, credit: credit - debit }));
}

export function reversed(lines: LedgerLine[]): LedgerLine[] {
  return lines.map(({ account, currency, debit, credit }) => ({ account, currency, debit: credit ?? 0, credit: debit ?? 0 }));
}

export type PostingResult = 'posted' | 'already_posted' | 'nothing_to_post';

/**
 * Posts an entry once per source key; the database refuses it unless it balances per currency.
 * The entry and its lines are one statement, so it is atomic on its own: `db` may be the pool
 * or a transaction the posting belongs to.
 */
export async function post(db: Queryable, posting: Posting): Promise<PostingResult> {
  // What the ledger's columns refuse would fail the same way on every retry: the event fails
  // instead, naming what it carried, rather than being retried without end.
  const unbookable = posting.lines.find(
    (line) => !/^[a-z]{3}$/.test(line.currency) || ![line.debit ?? 0, line.credit ?? 0].every((amount) => Number.isSafeInteger(amount) && amount >= 0),
  );
  if (unbookable) {
    const { currency, debit, credit } = unbookable;
    throw ApplicationFailure.nonRetryable(
      `${posting.description}: cannot book ${JSON.stringify({ currency, debit, credit })} (a lowercase currency code and whole minor units)`,
      FailureType.InvalidEvent,
    );
  }
  const lines = posting.lines.filter((line) => (line.debit ?? 0) > 0 || (line.credit ?? 0) > 0);
  // A zero amount (a free invoice, a zero refund) is not an accounting event.
  if (lines.length === 0) return 'nothing_to_post';
  const { rows } = await db.query<{ posted: boolean }>(
    `WITH entry AS (
       INSERT INTO ledger_entries (source_key, kind, reference, account, description, occurred_at, event_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (source_key) DO NOTHING RETURNING id),
     lines AS (
       INSERT INTO ledger_lines (entry_id, account, currency, debit, credit)
       SELECT entry.id, line.* FROM entry, unnest($8::text[], $9::text[], $10::bigint[], $11::bigint[]) AS line)
     SELECT EXISTS (SELECT 1 FROM entry) AS posted`,
    [
      posting.sourceKey,
      posting.kind,
      posting.reference,
      posting.connectedAccount,
      posting.description,
      posting.occurredAt,
      posting.eventId ?? null,
      lines.map((line) => line.account),
      lines.map((line) => line.currency),
      lines.map((line) => line.debit ?? 0),
      lines.map((line) => line.credit ?? 0),
    ],
  );
  return rows[0].posted ? 'posted' : 'already_posted';
}

/**
 * Serialises postings about one reference (a charge) until the transaction ends, so that
 * reading what was posted and posting the difference cannot interleave with another event's.
 */
export async function lockReference(tx: Queryable, reference: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`ledger:${reference}`]);
}

/** Whether the invoice's void is booked (every position it had reversed). */
export async function invoiceVoided(db: Queryable, invoiceId: string): Promise<boolean> {
  return (await postedKeys(db, [`invoice:${invoiceId}:voided`])).size > 0;
}

/** The source keys among these that have an entry. */
export async function postedKeys(db: Queryable, sourceKeys: string[]): Promise<Set<string>> {
  const { rows } = await db.query<{ source_key: string }>('SELECT source_key FROM ledger_entries WHERE source_key = ANY($1)', [sourceKeys]);
  return new Set(rows.map((row) => row.source_key));
}

/** The sum (debit − credit) already posted to one account by entries of these kinds about a reference. */
export async function postedAmount(db: Queryable, reference: string, kinds: string[], account: Account): Promise<number> {
  const { rows } = await db.query<{ amount: number }>(
    `SELECT coalesce(sum(l.debit - l.credit), 0)::float8 AS amount
       FROM ledger_lines l JOIN ledger_entries e ON e.id = l.entry_id
      WHERE e.reference = $1 AND e.kind = ANY($2) AND l.account = $3`,
    [reference, kinds, account],
  );
  return rows[0].amount;
}

/** The sum (debit − credit) posted to one account by entries about a reference whose source keys match a LIKE pattern. */
export async function postedUnderKeys(db: Queryable, reference: string, sourceKeyPattern: string, account: Account): Promise<number> {
  const { rows } = await db.query<{ amount: number }>(
    `SELECT coalesce(sum(l.debit - l.credit), 0)::float8 AS amount
       FROM ledger_lines l JOIN ledger_entries e ON e.id = l.entry_id
      WHERE e.reference = $1 AND e.source_key LIKE $2 AND l.account = $3`,
    [reference, sourceKeyPattern, account],
  );
  return rows[0].amount;
}

/** How many entries about a reference have source keys matching a LIKE pattern. */
export async function entriesUnderKeys(db: Queryable, reference: string, sourceKeyPattern: string): Promise<number> {
  const { rows } = await db.query<{ count: number }>('SELECT count(*)::int AS count FROM ledger_entries WHERE reference = $1 AND source_key LIKE $2', [
    reference,
    sourceKeyPattern,
  ]);
  return rows[0].count;
}

export interface Position {
  account: Account;
  currency: string;
  /** debit − credit */
  net: number;
}

/** What the entries about a reference (an invoice, a charge) add up to, per account and currency; only entries of `kinds` when given. */
export async function positions(db: Queryable, reference: string, kinds?: string[]): Promise<Position[]> {
  const { rows } = await db.query<Position>(
    `SELECT l.account, l.currency, sum(l.debit - l.credit)::float8 AS net
       FROM ledger_lines l JOIN ledger_entries e ON e.id = l.entry_id
      WHERE e.reference = $1 AND ($2::text[] IS NULL OR e.kind = ANY($2))
      GROUP BY l.account, l.currency ORDER BY l.currency, l.account`,
    [reference, kinds ?? null],
  );
  return rows;
}

/** The net (debit − credit) of each account over the entries (of `kinds`, when given) about a reference, in one currency. */
export async function netsOf(db: Queryable, reference: string, currency: string, kinds?: string[]): Promise<(account: Account) => number> {
  const inCurrency = (await positions(db, reference, kinds)).filter((p) => p.currency === currency);
  return (account) => inCurrency.find((p) => p.account === account)?.net ?? 0;
}

/** The lines of one entry, found by its source key (none when it was never posted). */
export async function linesOf(db: Queryable, sourceKey: string): Promise<LedgerLine[]> {
  const { rows } = await db.query<{ account: Account; currency: string; debit: number; credit: number }>(
    `SELECT l.account, l.currency, l.debit::float8 AS debit, l.credit::float8 AS credit
       FROM ledger_lines l JOIN ledger_entries e ON e.id = l.entry_id
      WHERE e.source_key = $1 ORDER BY l.id`,
    [sourceKey],
  );
  return rows;
}

export interface LedgerEntryView {
  source_key: string;
  kind: string;
  description: string;
  occurred_at: Date;
  event_id: string | null;
  lines: { account: Account; currency: string; debit: number; credit: number }[];
}

/** The entries about these references, oldest first, each with its lines. */
export async function entriesAbout(db: Queryable, references: string[]): Promise<LedgerEntryView[]> {
  const { rows } = await db.query<LedgerEntryView>(
    `SELECT e.source_key, e.kind, e.description, e.occurred_at, e.event_id,
            json_agg(json_build_object('account', l.account, 'currency', l.currency,
                                       'debit', l.debit, 'credit', l.credit) ORDER BY l.id) AS lines
       FROM ledger_entries e JOIN ledger_lines l ON l.entry_id = e.id
      WHERE e.reference = ANY($1) GROUP BY e.id ORDER BY e.id`,
    [references],
  );
  return rows;
}

export interface TrialBalance {
  accounts: { account: Account; currency: string; debit: number; credit: number }[];
  totals: { currency: string; debit: number; credit: number }[];
  balanced: boolean;
}

/** Whose books: one connected account's, the platform's own (null), or all of them together. */
export type Books = { connectedAccount: string | null } | 'all';

/** The platform's own books. */
export const platformBooks = { connectedAccount: null } as const satisfies Books;

/** Debits and credits per account and currency, over the books asked for. */
export async function trialBalance(db: Db, books: Books = 'all'): Promise<TrialBalance> {
  const scoped = books !== 'all';
  const { rows: accounts } = await db.query(
    `SELECT l.account, l.currency, sum(l.debit)::float8 AS debit, sum(l.credit)::float8 AS credit
       FROM ledger_lines l JOIN ledger_entries e ON e.id = l.entry_id
      WHERE NOT $1 OR e.account IS NOT DISTINCT FROM $2
      GROUP BY l.account, l.currency ORDER BY l.currency, l.account`,
    [scoped, scoped ? books.connectedAccount : null],
  );
  const totals = new Map<string, { currency: string; debit: number; credit: number }>();
  for (const { currency, debit, credit } of accounts) {
    const total = totals.get(currency) ?? { currency, debit: 0, credit: 0 };
    totals.set(currency, { currency, debit: total.debit + debit, credit: total.credit + credit });
  }
  return { accounts, totals: [...totals.values()], balanced: [...totals.values()].every((t) => t.debit === t.credit) };
}

/** Where one invoice stands in the books: what was issued, and what closed or keeps its receivable. */
export interface InvoicePosition {
  currency: string;
  recognized: number;
  /** Taken by the customer balance at finalization (negative: added to the invoice). */
  balance_applied: number;
  /** Revenue and tax reduced by credit notes (their refund parts are in `refunded`). */
  credited: number;
  paid: number;
  /** Paid beyond what was due: credited to the customer's balance, not to the invoice. */
  overpaid: number;
  voided: number;
  written_off: number;
  refunded: number;
  /** Withdrawn from the Stripe balance by disputes of the paying charge, less what was reinstated. */
  disputed: number;
  outstanding: number;
}

/** Names the charge a dispute is about, since a dispute's entries are booked under the dispute's own id. */
export async function recordDisputeCharge(tx: Queryable, disputeId: string, chargeId: string): Promise<void> {
  await tx.query('INSERT INTO dispute_charges (dispute_id, charge_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [disputeId, chargeId]);
}

/** What an invoice's books span besides its own entries: the charges that paid it and their disputes. */
export async function referencesOfPayingCharges(db: Queryable, chargeIds: string[]): Promise<string[]> {
  if (chargeIds.length === 0) return [];
  const { rows } = await db.query<{ dispute_id: string }>('SELECT dispute_id FROM dispute_charges WHERE charge_id = ANY($1) ORDER BY dispute_id', [chargeIds]);
  return [...chargeIds, ...rows.map((row) => row.dispute_id)];
}

/** The position of an invoice (in its currency) from its entries and those of the charges that paid it and their disputes. */
export async function invoicePosition(db: Queryable, invoiceId: string, chargeReferences: string[]): Promise<InvoicePosition | undefined> {
  const { rows } = await db.query<InvoicePosition>(
    `SELECT l.currency,
            sum(l.debit - l.credit) FILTER (WHERE e.kind = 'invoice_recognized' AND l.account = 'accounts_receivable')::float8 AS recognized,
            sum(l.credit - l.debit) FILTER (WHERE e.kind = 'customer_balance_applied' AND l.account = 'accounts_receivable')::float8 AS balance_applied,
            sum(l.debit - l.credit) FILTER (WHERE e.kind IN ('credit_note', 'credit_note_voided') AND l.account IN ('revenue', 'tax_payable'))::float8 AS credited,
            sum(l.credit - l.debit) FILTER (WHERE e.kind = 'payment_settled' AND l.account = 'accounts_receivable')::float8 AS paid,
            sum(l.credit - l.debit) FILTER (WHERE e.kind = 'payment_settled' AND l.account = 'customer_balance')::float8 AS overpaid,
            sum(l.credit - l.debit) FILTER (WHERE e.kind = 'invoice_voided' AND l.account = 'accounts_receivable')::float8 AS voided,
            sum(l.debit - l.credit) FILTER (WHERE e.reference = $1 AND l.account = 'bad_debt')::float8 AS written_off,
            sum(l.credit - l.debit) FILTER (WHERE e.kind = 'refund' AND l.account = 'stripe_balance')::float8 AS refunded,
            sum(l.debit - l.credit) FILTER (WHERE l.account = 'dispute_losses')::float8 AS disputed,
            sum(l.debit - l.credit) FILTER (WHERE e.reference = $1 AND l.account = 'accounts_receivable')::float8 AS outstanding
       FROM ledger_lines l JOIN ledger_entries e ON e.id = l.entry_id
      WHERE e.reference = $1 OR e.reference = ANY($2)
      GROUP BY l.currency ORDER BY count(*) FILTER (WHERE e.reference = $1) DESC LIMIT 1`,
    [invoiceId, chargeReferences],
  );
  if (!rows[0]) return undefined;
  // A FILTER over no rows is null; an amount nothing moved is 0.
  return Object.fromEntries(Object.entries(rows[0]).map(([key, value]) => [key, value ?? 0])) as unknown as InvoicePosition;
}

/**
 * The net (debit − credit) of each account and currency over the entries that occurred in [from,
 * to), in the books asked for, per kind of entry (the bank's payouts apart from its top-ups).
 */
export async function netsBetween(db: Queryable, from: Date, to: Date, books: Books = 'all'): Promise<(Position & { kind: string })[]> {
  const scoped = books !== 'all';
  const { rows } = await db.query<Position & { kind: string }>(
    `SELECT l.account, l.currency, e.kind, sum(l.debit - l.credit)::float8 AS net
       FROM ledger_lines l JOIN ledger_entries e ON e.id = l.entry_id
      WHERE e.occurred_at >= $1 AND e.occurred_at < $2 AND (NOT $3 OR e.account IS NOT DISTINCT FROM $4)
      GROUP BY l.account, l.currency, e.kind ORDER BY l.currency, l.account, e.kind`,
    [from, to, scoped, scoped ? books.connectedAccount : null],
  );
  return rows;
}

/** Every line of the entries that occurred in [from, to), in the books asked for, in the order they were posted within each moment. */
export async function journalBetween(db: Queryable, from: Date, to: Date, books: Books = 'all'): Promise<JournalRow[]> {
  const scoped = books !== 'all';
  const { rows } = await db.query<JournalRow>(
    `SELECT e.occurred_at, e.source_key, l.account, l.currency, l.debit::float8 AS debit, l.credit::float8 AS credit, e.description
       FROM ledger_lines l JOIN ledger_entries e ON e.id = l.entry_id
      WHERE e.occurred_at >= $1 AND e.occurred_at < $2 AND (NOT $3 OR e.account IS NOT DISTINCT FROM $4)
      ORDER BY e.occurred_at, e.id, l.id`,
    [from, to, scoped, scoped ? books.connectedAccount : null],
  );
  return rows;
}
