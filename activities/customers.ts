import { loadEventPayload } from '../src/store/events';
import { upsertCustomer } from '../src/store/customers';
import { objectSource } from '../src/store/objects';
import { currentObjectOnTie } from './same-second';
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

export function customerActivities({ db, stripe }: ActivityDependencies) {
  return {
    async syncCustomer(eventId: string): Promise<void> {
      const event = await loadEventPayload(db, eventId);
      const id = customerOf(event).id;
      const current = await currentObjectOnTie(stripe, event, await objectSource(db, 'customers', id), (client, _, options) =>
        client.customers.retrieve(id, {}, options),
      );
      // A deleted customer reads back as `{ deleted: true }` without its details: keep the event's.
      const state = current ? customerOf(current) : customerOf(event);
      await upsertCustomer(db, state.deleted && current ? { ...customerOf(event), deleted: true } : state, current !== undefined);
    },
  };
}
