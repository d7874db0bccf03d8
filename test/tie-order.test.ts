import { orderOfTie } from '../activities/same-second';
import { stripeEvent, stripeObject } from './support/stripe-events';

/** Two events of one object in one second: what Stripe's events themselves say of their order. */

const second = 1_764_000_000;
const subscription = (fields: Record<string, unknown>) => stripeObject('subscription', { id: 'sub_tie', ...fields });
const event = (type: string, object: Record<string, unknown>, previous?: Record<string, unknown>) =>
  stripeEvent(type, object, { created: second, data: { object, ...(previous && { previous_attributes: previous }) } });

describe('orderOfTie', () => {
  test("when one event is the object's creation, then it comes before any other", () => {
    const created = event('customer.subscription.created', subscription({ status: 'incomplete' }));
    const updated = event('customer.subscription.updated', subscription({ status: 'incomplete' }), { metadata: {} });

    expect([orderOfTie(created, updated), orderOfTie(updated, created)]).toEqual(['before', 'after']);
  });

  test("when one event is the object's deletion, then it comes after any other", () => {
    const deleted = event('customer.subscription.deleted', subscription({ status: 'active' }));
    const updated = event('customer.subscription.updated', subscription({ status: 'active' }), { status: 'past_due' });

    expect([orderOfTie(deleted, updated), orderOfTie(updated, deleted)]).toEqual(['after', 'before']);
  });

  test('when one state is in a status the object never leaves, then it comes after the other', () => {
    const intent = (status: string) => stripeObject('payment_intent', { id: 'pi_tie', status });
    const succeeded = event('payment_intent.succeeded', intent('succeeded'));
    const processing = event('payment_intent.processing', intent('processing'));

    expect([orderOfTie(succeeded, processing), orderOfTie(processing, succeeded)]).toEqual(['after', 'before']);
  });

  test("when an update's previous attributes are the other event's state, then it comes after it", () => {
    const first = event('customer.subscription.updated', subscription({ status: 'active', cancel_at_period_end: true }), { cancel_at_period_end: false });
    const second = event('customer.subscription.updated', subscription({ status: 'past_due', cancel_at_period_end: true }), { status: 'active' });

    expect([orderOfTie(second, first), orderOfTie(first, second)]).toEqual(['after', 'before']);
  });

  test('when previous attributes hold a nested object, then only what they name is compared', () => {
    const address = { city: 'Berlin', country: 'DE', line1: 'Old Street 1', line2: null, postal_code: '10115', state: null };
    const customer = (line1: string, email: string) => stripeObject('customer', { id: 'cus_tie', email, address: { ...address, line1 } });
    const moved = event('customer.updated', customer('New Street 2', 'a@example.com'), { address: { line1: 'Old Street 1' } });
    const renamed = event('customer.updated', customer('Old Street 1', 'a@example.com'), { email: 'old@example.com' });

    expect(orderOfTie(moved, renamed)).toBe('after');
  });

  test('when each update changed from the state of the other (a status back and forth), then they do not tell', () => {
    const away = event('customer.subscription.updated', subscription({ status: 'past_due' }), { status: 'active' });
    const back = event('customer.subscription.updated', subscription({ status: 'active' }), { status: 'past_due' });

    expect(orderOfTie(away, back)).toBeUndefined();
  });

  test('when neither event says what it changed from, then they do not tell', () => {
    const one = event('customer.subscription.updated', subscription({ status: 'active' }));
    const other = event('customer.subscription.updated', subscription({ status: 'past_due' }));

    expect(orderOfTie(one, other)).toBeUndefined();
  });

  test('when the stored state came from another object (a checkout that filled in a customer), then they do not tell', () => {
    const created = event('customer.created', stripeObject('customer', { id: 'cus_tie' }));
    const checkout = event('checkout.session.completed', stripeObject('checkout.session', { customer: 'cus_tie' }));

    expect(orderOfTie(created, checkout)).toBeUndefined();
  });
});
