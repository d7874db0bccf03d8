import type Stripe from 'stripe';
import type { Queryable } from '../src/platform/db';
import { asAccount, unlessRefused } from '../src/platform/stripe-client';
import type { StripeEvent } from '../src/platform/stripe-event';
import { keptEventPayload } from '../src/store/events';
import { disputeStatusesClosed } from '../src/store/objects';

/** The event that last changed a stored object: Unix seconds and id. */
export interface Source {
  created: number;
  eventId: string;
}

export type Retrieve = (stripe: Stripe, id: string, options: Stripe.RequestOptions | undefined) => Promise<object>;

/** How to read an object back from Stripe on a tie (nothing is read without a key). */
export interface Reread {
  stripe: Stripe | undefined;
  retrieve: Retrieve;
}

/**
 * Two events about one object created in the same second cannot be ordered by their time, and
 * event ids are not ordered by time either. With a Stripe key the object is read as Stripe has
 * it now, which is at least as new as both: the event is returned carrying that object, to be
 * written even on a tie. Without a key (or without a tie, or when Stripe refuses to read it back)
 * nothing is returned, and the events themselves decide (`winsTie`).
 */
export async function currentObjectOnTie(
  stripe: Stripe | undefined,
  event: StripeEvent,
  stored: Source | undefined,
  retrieve: Retrieve,
): Promise<StripeEvent | undefined> {
  const id = (event.data.object as { id?: unknown }).id;
  if (!stripe || typeof id !== 'string' || !stored || stored.created !== event.created || stored.eventId === event.id) return undefined;
  const current = await unlessRefused(retrieve(stripe, id, asAccount(event.account)));
  // Refused for good (gone since, an account that disconnected): the events decide, as without a key.
  if (!current) return undefined;
  return { ...event, data: { object: current as Record<string, unknown> } };
}

/**
 * Whether an event comes after the one that wrote the stored state in the same second, as far as
 * the two payloads tell (`orderOfTie`); when they do not (or the stored one's payload was cleaned
 * up), the greater event id wins.
 */
export async function winsTie(db: Queryable, event: StripeEvent, storedEventId: string): Promise<boolean> {
  const stored = await keptEventPayload(db, storedEventId);
  const order = stored ? orderOfTie(event, stored) : undefined;
  return order === undefined ? event.id > storedEventId : order === 'after';
}

/**
 * Stores an object's state from an event unless a newer event wrote it: `write(event)` writes
 * when the event is newer by its time (or nothing is stored), `write(event, over)` also when the
 * state stored came from event `over` of the same second. A tie is settled by Stripe's state (with
 * `reread` and a key) or by the events (`winsTie`); if the row changed meanwhile, it is looked at
 * again.
 */
export async function storeLatest(
  db: Queryable,
  event: StripeEvent,
  source: () => Promise<Source | undefined>,
  write: (event: StripeEvent, over?: string) => Promise<boolean>,
  reread?: Reread,
): Promise<boolean> {
  for (let look = 1; look <= 5; look += 1) {
    if (await write(event)) return true;
    const stored = await source();
    if (!stored || stored.created !== event.created || stored.eventId === event.id) return false;
    const current = reread && (await currentObjectOnTie(reread.stripe, event, stored, reread.retrieve));
    if (!current && !(await winsTie(db, event, stored.eventId))) return false;
    if (await write(current ?? event, stored.eventId)) return true;
  }
  throw new Error(`event ${event.id}: the stored state kept changing under it; retrying`);
}

/** Statuses an object does not leave: a state in one comes after any state outside it. */
const finalStatuses: Record<string, string[]> = {
  invoice: ['paid', 'void'],
  payment_intent: ['succeeded', 'canceled'],
  setup_intent: ['succeeded', 'canceled'],
  charge: ['succeeded', 'failed'],
  dispute: disputeStatusesClosed,
  subscription: ['canceled', 'incomplete_expired'],
};

/** An object's `.created` event is its first and `.deleted` its last. */
const lifecycleStep = (type: string) => (type.endsWith('.created') ? 0 : type.endsWith('.deleted') ? 2 : 1);

function isFinal(object: Record<string, unknown>): boolean {
  return finalStatuses[String(object.object)]?.includes(String(object.status)) ?? false;
}

/** A value as `previous_attributes` gives it matches the other state's: what it names is equal there. */
function matches(previous: unknown, value: unknown): boolean {
  if (previous === null || typeof previous !== 'object') return previous === value;
  if (Array.isArray(previous)) return Array.isArray(value) && value.length === previous.length && previous.every((item, i) => matches(item, value[i]));
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  return Object.entries(previous).every(([key, item]) => matches(item, (value as Record<string, unknown>)[key]));
}

/** The later event's `previous_attributes` are the earlier one's state: it changed that state. */
function changedFrom(later: StripeEvent, earlier: StripeEvent): boolean {
  const previous = later.data.previous_attributes;
  return !!previous && Object.keys(previous).length > 0 && matches(previous, earlier.data.object);
}

/**
 * How two events of one object in the same second are ordered, by what Stripe's events carry: an
 * object's `.created` event comes first and `.deleted` last; a state in a status the object never
 * leaves (an invoice paid or void, an intent succeeded or canceled, a dispute decided, a
 * subscription canceled) comes after one outside it; an update whose `previous_attributes` are the
 * other event's state comes after it. Undefined when they do not tell (or tell both ways).
 */
export function orderOfTie(event: StripeEvent, other: StripeEvent): 'after' | 'before' | undefined {
  // A row filled in from another object (a checkout's customer) is not ordered by these.
  const object = event.data.object;
  if (object.object !== other.data.object.object || object.id !== other.data.object.id) return undefined;
  const step = lifecycleStep(event.type) - lifecycleStep(other.type);
  if (step !== 0) return step > 0 ? 'after' : 'before';
  const final = Number(isFinal(object)) - Number(isFinal(other.data.object));
  if (final !== 0) return final > 0 ? 'after' : 'before';
  const after = changedFrom(event, other);
  const before = changedFrom(other, event);
  return after === before ? undefined : after ? 'after' : 'before';
}
