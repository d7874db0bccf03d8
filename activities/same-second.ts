import type Stripe from 'stripe';
import { asAccount, unlessRefused } from '../src/platform/stripe-client';
import type { StripeEvent } from '../src/platform/stripe-event';

/** The event that last changed a stored object: Unix seconds and id. */
export interface Source {
  created: number;
  eventId: string;
}

/**
 * Two events about one object created in the same second cannot be ordered by their time, and
 * event ids are not ordered by time either. With a Stripe key the object is read as Stripe has
 * it now, which is at least as new as both: the event is returned carrying that object, to be
 * written even on a tie. Without a key (or without a tie, or when Stripe refuses to read it back)
 * nothing is returned, and the greater event id wins a tie.
 */
export async function currentObjectOnTie(
  stripe: Stripe | undefined,
  event: StripeEvent,
  stored: Source | undefined,
  retrieve: (stripe: Stripe, id: string, options: Stripe.RequestOptions | undefined) => Promise<object>,
): Promise<StripeEvent | undefined> {
  const id = (event.data.object as { id?: unknown }).id;
  if (!stripe || typeof id !== 'string' || !stored || stored.created !== event.created || stored.eventId === event.id) return undefined;
  const current = await unlessRefused(retrieve(stripe, id, asAccount(event.account)));
  // Refused for good (gone since, an account that disconnected): the event ids decide, as without a key.
  if (!current) return undefined;
  return { ...event, data: { object: current as Record<string, unknown> } };
}
