import type Stripe from 'stripe';
import type { Queryable } from '../platform/db';
import { closeTotals, compareWithStripe, isPayoutTransaction, stripeBalanceTransactions, type CloseReport } from '../platform/finance-report';
import { balanceTransactionsBetween, balanceTransactionWaits } from './balance-transactions';
import { netsBetween, netsOf } from './ledger';

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
  let comparison: CloseReport['stripe_comparison'];
  if (!stripe) comparison = { checked: false, reason: 'STRIPE_SECRET_KEY is not set: Stripe\'s balance transactions cannot be listed' };
  else {
    const listed = await stripeBalanceTransactions(stripe, period.from, period.to, books.connectedAccount);
    const payoutNets = new Map<string, number>();
    for (const { sourceId, currency } of listed.filter(isPayoutTransaction)) {
      payoutNets.set(`${sourceId}:${currency}`, (await netsOf(db, sourceId, currency, ['payout']))('stripe_balance'));
    }
    comparison = compareWithStripe(listed, booked, (payoutId, currency) => payoutNets.get(`${payoutId}:${currency}`) ?? 0);
  }
  return {
    month: period.month,
    totals,
    stripe_comparison: comparison,
    awaiting_fees: waits.map((wait) => ({ source_id: wait.sourceId, balance_transaction_id: wait.balanceTransactionId, currency: wait.currency, amount: wait.amount, since: wait.since })),
  };
}
