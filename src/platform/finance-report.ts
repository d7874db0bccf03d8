import { stringify } from 'csv-stringify/sync';
import type Stripe from 'stripe';
import { decimalAmount } from './money';
import { asAccount } from './stripe-client';

/**
 * What finance takes from the books: the month's close (totals per currency, compared with
 * Stripe's own balance transactions) and the journal in a general-journal layout. Built from
 * rows the caller read, so the admin API and the daily digest report the same figures.
 */

/** An account's net (debit − credit) in one currency over the period, from the entries of one kind. */
export interface AccountNet {
  account: string;
  currency: string;
  kind: string;
  net: number;
}

/** A balance transaction as Stripe lists it or as the books recorded it; amounts in the settlement currency. */
export interface BalanceTransactionFigures {
  id: string;
  type: string;
  sourceId: string;
  currency: string;
  amount: number;
  fee: number;
}

export interface CloseTotals {
  currency: string;
  revenue: number;
  tax: number;
  refunds: number;
  disputes: number;
  bad_debt: number;
  fees: number;
  /** What reached the bank from the Stripe balance, and what came from the bank into it (both nets, after failures and reversals). */
  payouts: number;
  topups: number;
  /** Connect, the platform's books: fees it earned on its connected accounts' charges, and what it passed on to them by transfer. */
  application_fees: number;
  transfers: number;
  /** Connect, a connected account's books: the application fees it paid its platform (apart from Stripe's `fees`). */
  platform_fees: number;
  /** Credit put on customers' balances by hand, less debts added so (Stripe's `adjustment` customer balance transactions). */
  balance_adjustments: number;
}

export interface Difference {
  balance_transaction: string;
  source: string;
  type: string;
  currency: string;
  /** `not_in_ledger`: Stripe has it, the books do not; `not_in_stripe`: the reverse; `differs`: both, not equal. */
  kind: 'not_in_ledger' | 'not_in_stripe' | 'differs';
  stripe: { amount: number; fee: number } | null;
  ledger: { amount: number; fee: number } | null;
}

export type StripeComparison =
  | { checked: true; stripe_transactions: number; booked_transactions: number; differences: Difference[] }
  | { checked: false; reason: string };

/** The month's figures per currency, from the nets of the accounts (signed the way finance reads them). */
export function closeTotals(nets: AccountNet[]): CloseTotals[] {
  const currencies = [...new Set(nets.map((n) => n.currency))].sort();
  return currencies.map((currency) => {
    const net = (account: string, kind?: string) =>
      nets.filter((n) => n.currency === currency && n.account === account && (kind === undefined || n.kind === kind)).reduce((sum, n) => sum + n.net, 0);
    return {
      currency,
      revenue: -net('revenue'),
      tax: -net('tax_payable'),
      refunds: net('refunds'),
      disputes: net('dispute_losses'),
      bad_debt: net('bad_debt'),
      fees: net('stripe_fees'),
      payouts: net('bank', 'payout'),
      topups: -net('bank', 'topup'),
      application_fees: -net('application_fees'),
      transfers: net('connected_account_transfers'),
      platform_fees: net('platform_fees'),
      balance_adjustments: net('customer_balance_adjustments'),
    };
  });
}

/** Payouts' and top-ups' transactions are booked by their object's status, not one by one: compared per payout or top-up. */
const stagedTypes = new Set(['payout', 'payout_cancel', 'payout_failure', 'topup', 'topup_reversal']);
export const isStagedTransaction = (bt: Pick<BalanceTransactionFigures, 'type'>) => stagedTypes.has(bt.type);

/**
 * Every balance transaction of Stripe's for the month set against the books: by id for what the
 * books recorded (charges, refunds, disputes), per payout or top-up for theirs (what left or
 * entered the Stripe balance for it), and whatever the books recorded that Stripe does not list.
 */
export function compareWithStripe(
  stripe: BalanceTransactionFigures[],
  booked: BalanceTransactionFigures[],
  stagedNet: (sourceId: string, currency: string) => number,
): StripeComparison {
  const differences: Difference[] = [];
  const bookedById = new Map(booked.map((bt) => [bt.id, bt]));
  const listed = new Set(stripe.map((bt) => bt.id));
  const figures = (bt: BalanceTransactionFigures) => ({ amount: bt.amount, fee: bt.fee });
  const about = (bt: BalanceTransactionFigures) => ({ balance_transaction: bt.id, source: bt.sourceId, type: bt.type, currency: bt.currency });

  for (const bt of stripe.filter((t) => !isStagedTransaction(t))) {
    const ours = bookedById.get(bt.id);
    if (!ours) differences.push({ ...about(bt), kind: 'not_in_ledger', stripe: figures(bt), ledger: null });
    else if (ours.amount !== bt.amount || ours.fee !== bt.fee || ours.currency !== bt.currency) {
      differences.push({ ...about(bt), kind: 'differs', stripe: figures(bt), ledger: figures(ours) });
    }
  }
  const staged = new Map<string, BalanceTransactionFigures>();
  for (const bt of stripe.filter(isStagedTransaction)) {
    const key = `${bt.sourceId}:${bt.currency}`;
    const sum = staged.get(key);
    staged.set(key, sum ? { ...sum, amount: sum.amount + bt.amount, fee: sum.fee + bt.fee } : { ...bt, type: bt.type.startsWith('topup') ? 'topup' : 'payout' });
  }
  for (const bt of staged.values()) {
    const ours = stagedNet(bt.sourceId, bt.currency);
    if (ours !== bt.amount - bt.fee) {
      differences.push({ ...about(bt), kind: ours === 0 ? 'not_in_ledger' : 'differs', stripe: figures(bt), ledger: { amount: ours, fee: 0 } });
    }
  }
  for (const bt of booked.filter((t) => !listed.has(t.id))) {
    differences.push({ ...about(bt), kind: 'not_in_stripe', stripe: null, ledger: figures(bt) });
  }
  return { checked: true, stripe_transactions: stripe.length, booked_transactions: booked.length, differences };
}

/** Stripe's balance transactions created in [from, to), every page. */
export async function stripeBalanceTransactions(stripe: Stripe, from: Date, to: Date, connectedAccount: string | null): Promise<BalanceTransactionFigures[]> {
  const created = { gte: Math.floor(from.getTime() / 1000), lt: Math.floor(to.getTime() / 1000) };
  const transactions: BalanceTransactionFigures[] = [];
  for await (const bt of stripe.balanceTransactions.list({ created, limit: 100 }, asAccount(connectedAccount))) {
    // Filtered here too: a test double (stripe-mock) answers whatever the filter.
    if (bt.created < created.gte || bt.created >= created.lt) continue;
    const sourceId = typeof bt.source === 'string' ? bt.source : (bt.source?.id ?? '');
    transactions.push({ id: bt.id, type: bt.type, sourceId, currency: bt.currency, amount: bt.amount, fee: bt.fee });
  }
  return transactions;
}

/** One line of a journal: an entry's line with the entry's date, key and description. */
export interface JournalRow {
  occurred_at: Date;
  source_key: string;
  account: string;
  currency: string;
  debit: number;
  credit: number;
  description: string;
}

/** The journal as CSV: one row per line, amounts in the currency's major unit, as accounting tools import it. */
export function journalCsv(lines: JournalRow[]): string {
  return stringify(
    lines.map((line) => [
      line.occurred_at.toISOString().slice(0, 10),
      line.source_key,
      line.account,
      line.debit > 0 ? decimalAmount(line.debit, line.currency) : '',
      line.credit > 0 ? decimalAmount(line.credit, line.currency) : '',
      line.currency.toUpperCase(),
      line.description,
    ]),
    { header: true, columns: ['date', 'reference', 'account', 'debit', 'credit', 'currency', 'memo'] },
  );
}

export interface CloseReport {
  month: string;
  totals: CloseTotals[];
  stripe_comparison: StripeComparison;
  awaiting_fees: { source_id: string; balance_transaction_id: string; currency: string; amount: number; since: Date }[];
  /** Captured charges not in the books: whether each pays an invoice is unknown (newer API versions without a key). */
  charges_not_booked: { charge_id: string; payment_intent_id: string | null; account: string | null; currency: string; amount: number; since: Date; event_id: string }[];
}

/** The close as CSV: the totals, then each difference, each amount waiting for its fee and each charge not booked. */
export function closeReportCsv(report: CloseReport): string {
  const rows: string[][] = [];
  for (const totals of report.totals) {
    for (const [item, amount] of Object.entries(totals).filter(([key]) => key !== 'currency')) {
      rows.push(['total', totals.currency.toUpperCase(), item, decimalAmount(amount as number, totals.currency), '']);
    }
  }
  const comparison = report.stripe_comparison;
  if (!comparison.checked) rows.push(['comparison', '', 'not_checked', '', comparison.reason]);
  else {
    for (const d of comparison.differences) {
      const amount = (d.stripe ?? d.ledger)!.amount;
      rows.push(['difference', d.currency.toUpperCase(), d.kind, decimalAmount(amount, d.currency), `${d.type} ${d.balance_transaction} (${d.source})`]);
    }
  }
  for (const wait of report.awaiting_fees) {
    rows.push(['awaiting_fee', wait.currency.toUpperCase(), wait.source_id, decimalAmount(wait.amount, wait.currency), wait.balance_transaction_id]);
  }
  for (const charge of report.charges_not_booked) {
    rows.push(['charge_not_booked', charge.currency.toUpperCase(), charge.charge_id, decimalAmount(charge.amount, charge.currency), `payment intent ${charge.payment_intent_id ?? 'none'}, event ${charge.event_id}`]);
  }
  return stringify(rows, { header: true, columns: ['section', 'currency', 'item', 'amount', 'detail'] });
}
