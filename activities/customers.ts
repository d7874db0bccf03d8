import { loadEventPayload } from '../src/store/events';
import { upsertCustomer } from '../src/store/customers';
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

export function customerActivities({ db }: ActivityDependencies) {
  return {
    async syncCustomer(eventId: string): Promise<void> {
      await upsertCustomer(db, customerOf(await loadEventPayload(db, eventId)));
    },
  };
}
