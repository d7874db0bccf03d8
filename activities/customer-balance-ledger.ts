import { log } from '@temporalio/activity';
import type Stripe from 'stripe';
import { isCurrencyCode } from '../src/platform/money';
import { asAccount, isStripeRefusal } from '../src/platform/stripe-client';
import { fromStripeTime as at, type Json, type StripeEvent } from '../src/platform/stripe-event';
import { loadEventPayload } from '../src/store/events';
import { post, sourceOf, transfer } from '../src/store/ledger';
import { invalidEvent } from '../workflows/contracts';
import type { ActivityDependencies } from './dependencies';

/**
 * A customer's credit balance changed by hand (the Dashboard's "adjust balance", the API's
 * customer balance transactions, a balance given when the customer was created). Invoices and
 * credit notes move `customer_balance` through their own entries; these changes reach us only as
 * a `customer.created` or `customer.updated` whose balance moved, which does not tell them from
 * an invoice's. So the customer's balance transactions are listed from Stripe (newest first) and
 * the one made by hand that is this move (its amount and the balance it left) is booked once
 * under its id: a credit granted is Dr customer balance adjustments / Cr customer balance, a debt
 * added the other way. Only transactions of the day before the event are looked at: one made
 * before the books began, which an invoice we never saw may have spent, is not booked.
 */
const byHand = new Set(['adjustment', 'initial', 'migration']);
const lookBackSeconds = 86_400;

/** The balance before and after the event, when it may carry a change made by hand: a new customer with a balance, or an update that moved it. */
function balanceMove(event: StripeEvent, customer: Json): { from: number; to: number } | null {
  const to = customer.balance;
  if (!Number.isSafeInteger(to)) return null;
  if (event.type === 'customer.created') return to === 0 ? null : { from: 0, to };
  const from = event.data.previous_attributes?.balance;
  return event.type === 'customer.updated' && Number.isSafeInteger(from) && from !== to ? { from: from as number, to } : null;
}

async function postAdjustment(db: ActivityDependencies['db'], event: StripeEvent, customerId: string, txn: Stripe.CustomerBalanceTransaction): Promise<void> {
  if (!isCurrencyCode(txn.currency)) throw new Error(`customer balance transaction ${txn.id} of ${customerId} has no currency code`);
  // A negative amount is a credit for the customer: what we owe them grows.
  await post(db, {
    sourceKey: `customer_balance_transaction:${txn.id}`,
    kind: 'customer_balance_adjusted',
    reference: customerId,
    description: `Customer balance of ${customerId} ${txn.amount < 0 ? 'credited' : 'debited'} by hand (${txn.type}, ${txn.id})`,
    occurredAt: at(txn.created),
    ...sourceOf(event),
    lines: transfer('customer_balance_adjustments', 'customer_balance', txn.currency, -txn.amount),
  });
}

export function customerBalanceLedgerActivities({ db, stripe }: ActivityDependencies) {
  return {
    /** `customer.created` / `customer.updated`: the change made by hand that moved the customer's balance, once. */
    async postCustomerBalanceAdjustments(eventId: string): Promise<void> {
      const event = await loadEventPayload(db, eventId);
      const customer = event.data.object as Json;
      if (customer.object !== 'customer' || typeof customer.id !== 'string') throw invalidEvent(event, 'data.object is not a customer');
      const move = balanceMove(event, customer);
      if (!move) return;
      if (!stripe) {
        log.warn('customer balance change not booked: without STRIPE_SECRET_KEY a change made by hand cannot be told from an invoice\'s', { customerId: customer.id });
        return;
      }
      const isThisMove = (txn: Stripe.CustomerBalanceTransaction) => byHand.has(txn.type) && txn.amount === move.to - move.from && txn.ending_balance === move.to;
      try {
        for await (const txn of stripe.customers.listBalanceTransactions(customer.id, { limit: 100 }, asAccount(event.account))) {
          if (txn.created < event.created - lookBackSeconds) break;
          if (isThisMove(txn)) await postAdjustment(db, event, customer.id, txn);
        }
      } catch (err) {
        // A customer deleted since, or an account that disconnected: there is nothing we may list.
        if (!isStripeRefusal(err)) throw err;
        log.warn('customer balance changes not booked: Stripe refused to list them', { customerId: customer.id, account: event.account, error: err.message });
      }
    },
  };
}
