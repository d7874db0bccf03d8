import { log } from '@temporalio/activity';
import type Stripe from 'stripe';
import type { Queryable } from '../src/platform/db';
import { asAccount, unlessRefused } from '../src/platform/stripe-client';
import { loadEventPayload } from '../src/store/events';
import { customerEmailSince, storedCustomerEmail, fillInCustomer, upsertCustomer } from '../src/store/customers';
import { objectSource } from '../src/store/objects';
import { storeLatest } from './same-second';
import type { StripeEvent } from '../src/platform/stripe-event';
import { invalidEvent } from '../workflows/contracts';
import type { ActivityDependencies } from './dependencies';

/** A customer event's state, newest event wins. */
function customerOf(event: StripeEvent) {
  const customer = event.data.object as Record<string, any>;
  if (customer.object !== 'customer' || typeof customer.id !== 'string') {
    throw invalidEvent(event, 'data.object is not a customer');
  }
  return {
    id: customer.id as string,
    account: event.account ?? null,
    email: customer.email ?? null,
    name: customer.name ?? null,
    phone: customer.phone ?? null,
    address: customer.address ?? null,
    deleted: customer.deleted === true || event.type === 'customer.deleted',
    sourceCreated: event.created,
    sourceEventId: event.id,
  };
}

/** Where a customer's email comes from: what events stored, and with a key Stripe's API. */
export interface CustomerSources {
  db: Queryable;
  stripe?: Stripe;
}

/**
 * The email to write to a customer: as events described the customer (none for one deleted or
 * described without an email). With a key, a customer no event described (one created before
 * this service listened) is asked of Stripe once and remembered, filling in only what is
 * missing, as of the customer's creation: any customer event is newer and stays the authority.
 * A customer Stripe refuses (an unknown id, an account that disconnected) or answers as deleted
 * is not remembered and has no email; Stripe away fails the step, which is retried.
 */
export async function emailOfCustomer({ db, stripe }: CustomerSources, id: string, account: string | null, eventId: string): Promise<string | null> {
  const stored = await storedCustomerEmail(db, id);
  if (stored !== undefined || !stripe) return stored ?? null;
  const customer = await unlessRefused(stripe.customers.retrieve(id, {}, asAccount(account)), (err) =>
    log.warn('customer not looked up: Stripe refused', { customer: id, error: err.message }),
  );
  if (!customer || customer.deleted) return null;
  return fillInCustomer(db, {
    id,
    account,
    email: customer.email ?? null,
    name: customer.name ?? null,
    phone: customer.phone ?? null,
    address: customer.address ?? null,
    sourceCreated: customer.created,
    sourceEventId: eventId,
  });
}

/**
 * Where an email to a customer goes: the address the object carries (an invoice's, Stripe's copy
 * of the customer's taken when it was finalized, `emailAsOf`), unless a customer event since gave
 * the customer another (they changed it after the invoice was finalized); else the customer's as
 * `emailOfCustomer` finds it. So an invoice finalized before its customer had an email still
 * reaches the address given since.
 */
export async function customerAddressOf(
  sources: CustomerSources,
  carried: { email: string | null; customerId: string | null; account: string | null; emailAsOf: number | null },
  eventId: string,
): Promise<string | null> {
  if (carried.email) {
    const changed = carried.customerId && carried.emailAsOf !== null ? await customerEmailSince(sources.db, carried.customerId, new Date(carried.emailAsOf * 1000)) : undefined;
    return changed ?? carried.email;
  }
  return carried.customerId ? emailOfCustomer(sources, carried.customerId, carried.account, eventId) : null;
}

export function customerActivities({ db, stripe }: ActivityDependencies) {
  return {
    async syncCustomer(eventId: string): Promise<void> {
      const event = await loadEventPayload(db, eventId);
      const id = customerOf(event).id;
      await storeLatest(
        db,
        event,
        () => objectSource(db, 'customers', id),
        (written, over) => {
          // A deleted customer reads back from Stripe as `{ deleted: true }` without its details: keep the event's.
          const state = customerOf(written);
          return upsertCustomer(db, state.deleted && written !== event ? { ...customerOf(event), deleted: true } : state, over);
        },
        { stripe, retrieve: (client, _, options) => client.customers.retrieve(id, {}, options) },
      );
    },
  };
}
