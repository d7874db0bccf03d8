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
 * customer balance transactions, a balance set when the customer was created). Invoices and
 * credit notes move `customer_balance` through their own entries; these changes reach us only as
 * a `customer.created` or `customer.updated` whose balance moved, which does not tell them from
 * an invoice's. So the customer's balance transactions are listed from Stripe, and each made by
 * hand is booked once under its id: a credit granted is Dr customer balance adjustments / Cr
 * customer balance, a debt added the other way.
 */
const byHand = new Set(['adjustment', 'initial', 'migration']);

/** Whether the event may carry a change made by hand: a new customer with a balance, or an update that moved it. */
function balanceMoved(event: StripeEvent, customer: Json): boolean {
  if (event.type === 'customer.created') return Number.isSafeInteger(customer.balance) && customer.balance !== 0;
  const previous = event.data.previous_attributes;
  return event.type === 'customer.updated' && previous !== undefined && Object.hasOwn(previous, 'balance');
}

async function postAdjustment(db: ActivityDependencies['db'], event: StripeEvent, customerId: string, txn: Stripe.CustomerBalanceTransaction): Promise<void> {
  if (!isCurrencyCode(txn.currency) || !Number.isSafeInteger(txn.amount)) {
    throw new Error(`customer balance transaction ${txn.id} of ${customerId} has no currency code or a non-whole amount`);
  }
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
    /** `customer.created` / `customer.updated`: the customer's balance transactions made by hand, each once. */
    async postCustomerBalanceAdjustments(eventId: string): Promise<void> {
      const event = await loadEventPayload(db, eventId);
      const customer = event.data.object as Json;
      if (customer.object !== 'customer' || typeof customer.id !== 'string') throw invalidEvent(event, 'data.object is not a customer');
      if (!balanceMoved(event, customer)) return;
      if (!stripe) {
        log.warn('customer balance changes not booked: without STRIPE_SECRET_KEY changes made by hand cannot be told from an invoice\'s', { customerId: customer.id });
        return;
      }
      try {
        for await (const txn of stripe.customers.listBalanceTransactions(customer.id, { limit: 100 }, asAccount(event.account))) {
          if (byHand.has(txn.type)) await postAdjustment(db, event, customer.id, txn);
        }
      } catch (err) {
        // A customer deleted since, or an account that disconnected: there is nothing we may list.
        if (!isStripeRefusal(err)) throw err;
        log.warn('customer balance changes not booked: Stripe refused to list them', { customerId: customer.id, account: event.account, error: err.message });
      }
    },
  };
}
