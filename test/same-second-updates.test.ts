import { randomBytes } from 'node:crypto';
import { deliverTwiceAndWait, startTestService, type TestService } from './support/service';
import { useServiceWithRecordedStripe } from './support/stripe-recorder';
import { stripeEvent, stripeObject } from './support/stripe-events';

/**
 * Two events of one object created in the same second: their time cannot order them, and event
 * ids are not ordered by time. With a Stripe key the object is read back from Stripe; without one
 * the events decide (a creation first, a final status last, an update after the state its previous
 * attributes name), else the greater event id wins (documented).
 */

const second = Math.floor(Date.now() / 1000) - 30;

/** Two events of one second, the later-looking id delivered first so that id order would pick it. */
function sameSecondPair(type: string, first: Record<string, unknown>, then: Record<string, unknown>) {
  const suffix = randomBytes(6).toString('hex');
  return [stripeEvent(type, first, { id: `evt_test_zzz_${suffix}`, created: second }), stripeEvent(type, then, { id: `evt_test_aaa_${suffix}`, created: second })];
}

interface Happening {
  type: string;
  object: Record<string, unknown>;
  previous?: Record<string, unknown>;
}

/** Two events of one second, the earlier with the greater id, so that id order would pick the earlier state. */
function earlierWithGreaterId(earlier: Happening, later: Happening) {
  const suffix = randomBytes(6).toString('hex');
  const event = ({ type, object, previous }: Happening, id: string) =>
    stripeEvent(type, object, { id, created: second, data: { object, ...(previous && { previous_attributes: previous }) } });
  return { earlier: event(earlier, `evt_test_zzz_${suffix}`), later: event(later, `evt_test_aaa_${suffix}`) };
}

/** A new subscription created `incomplete` and activated by its first payment in the same second. */
const createdThenActivated = (id: string) =>
  earlierWithGreaterId(
    { type: 'customer.subscription.created', object: stripeObject('subscription', { id, status: 'incomplete' }) },
    { type: 'customer.subscription.updated', object: stripeObject('subscription', { id, status: 'active' }), previous: { status: 'incomplete' } },
  );

/** The later event first, then the earlier one, each delivered twice. */
async function deliverLaterFirst(service: TestService, { earlier, later }: ReturnType<typeof earlierWithGreaterId>) {
  await deliverTwiceAndWait(service, later);
  await deliverTwiceAndWait(service, earlier);
}

/** Both events at once, each delivered twice. */
async function deliverAtOnce(service: TestService, ...events: ReturnType<typeof stripeEvent>[]) {
  await Promise.all(events.map((event) => deliverTwiceAndWait(service, event)));
}

async function inStripe(path: string): Promise<Record<string, any>> {
  return (await fetch(`${process.env.TEST_STRIPE_API_BASE}/v1/${path}`, { headers: { authorization: 'Bearer sk_test_123' } })).json() as Promise<Record<string, any>>;
}

async function stored(service: TestService, table: 'customers' | 'subscriptions' | 'disputes' | 'payment_intents', id: string) {
  return (await service.database.db.query(`SELECT * FROM ${table} WHERE id = $1`, [id])).rows[0];
}

describe('with a Stripe key', () => {
  const environment = useServiceWithRecordedStripe();

  test('when two customer updates share a second, then the customer is read from Stripe and its state written', async () => {
    const id = 'cus_same_second_1';
    const current = await inStripe(`customers/${id}`);
    const pair = sameSecondPair('customer.updated', stripeObject('customer', { id, email: 'first@example.com' }), stripeObject('customer', { id, email: 'second@example.com' }));

    for (const event of pair) await deliverTwiceAndWait(environment.service, event);

    expect(environment.stripe.calls).toContain(`GET /v1/customers/${id}`);
    expect(await stored(environment.service, 'customers', id)).toMatchObject({ email: current.email });
  });

  test('when two subscription updates share a second, then the subscription is read from Stripe and its status written', async () => {
    const id = 'sub_same_second_1';
    const current = await inStripe(`subscriptions/${id}`);
    const other = current.status === 'past_due' ? 'unpaid' : 'past_due';
    const pair = sameSecondPair('customer.subscription.updated', stripeObject('subscription', { id, status: other }), stripeObject('subscription', { id, status: other }));

    for (const event of pair) await deliverTwiceAndWait(environment.service, event);

    expect(environment.stripe.calls).toContain(`GET /v1/subscriptions/${id}`);
    expect(await stored(environment.service, 'subscriptions', id)).toMatchObject({ status: current.status });
  });

  test('when two events of a dispute share a second, then the dispute is read from Stripe and its status written (the digest and the reminder read it)', async () => {
    const id = 'dp_same_second_1';
    const current = await inStripe(`disputes/${id}`);
    const other = current.status === 'under_review' ? 'needs_response' : 'under_review';
    const pair = sameSecondPair('charge.dispute.updated', stripeObject('dispute', { id, status: other }), stripeObject('dispute', { id, status: other }));

    for (const event of pair) await deliverTwiceAndWait(environment.service, event);

    expect(environment.stripe.calls).toContain(`GET /v1/disputes/${id}`);
    expect(await stored(environment.service, 'disputes', id)).toMatchObject({ status: current.status });
  });
});

describe('without a Stripe key', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService();
  });
  afterAll(() => service?.stop());

  test('when two customer updates share a second, then the greater event id wins whatever the order of delivery', async () => {
    const id = 'cus_same_second_2';
    const pair = sameSecondPair('customer.updated', stripeObject('customer', { id, email: 'zzz@example.com' }), stripeObject('customer', { id, email: 'aaa@example.com' }));

    for (const event of pair) await deliverTwiceAndWait(service, event);

    expect(await stored(service, 'customers', id)).toMatchObject({ email: 'zzz@example.com', source_event_id: pair[0].id });
  });

  test('when a subscription is created and activated in one second and the activation is delivered first, then it stays active', async () => {
    const id = 'sub_same_second_created_1';
    const { earlier, later } = createdThenActivated(id);

    await deliverLaterFirst(service, { earlier, later });

    expect(await stored(service, 'subscriptions', id)).toMatchObject({ status: 'active', source_event_id: later.id });
  });

  test('when a subscription is created and activated in one second and both arrive at once, then it is active', async () => {
    const id = 'sub_same_second_created_2';
    const { earlier, later } = createdThenActivated(id);

    await deliverAtOnce(service, earlier, later);

    expect(await stored(service, 'subscriptions', id)).toMatchObject({ status: 'active', source_event_id: later.id });
  });

  test('when two updates of a subscription share a second, then the one whose previous attributes are the other state wins', async () => {
    const id = 'sub_same_second_chain';
    const { earlier, later } = earlierWithGreaterId(
      { type: 'customer.subscription.updated', object: stripeObject('subscription', { id, status: 'active', cancel_at_period_end: true }), previous: { cancel_at_period_end: false } },
      { type: 'customer.subscription.updated', object: stripeObject('subscription', { id, status: 'past_due', cancel_at_period_end: true }), previous: { status: 'active' } },
    );

    await deliverLaterFirst(service, { earlier, later });

    expect(await stored(service, 'subscriptions', id)).toMatchObject({ status: 'past_due', cancel_at_period_end: true, source_event_id: later.id });
  });

  test('when a customer is created and given an email in one second, then the email stays whatever the order', async () => {
    const id = 'cus_same_second_created';
    const { earlier, later } = earlierWithGreaterId(
      { type: 'customer.created', object: stripeObject('customer', { id, email: null }) },
      { type: 'customer.updated', object: stripeObject('customer', { id, email: 'new@example.com' }), previous: { email: null } },
    );

    await deliverLaterFirst(service, { earlier, later });

    expect(await stored(service, 'customers', id)).toMatchObject({ email: 'new@example.com', source_event_id: later.id });
  });

  test('when a payment intent is created and succeeds in one second and both arrive at once, then it is stored succeeded', async () => {
    const id = 'pi_same_second_1';
    const { earlier, later } = earlierWithGreaterId(
      { type: 'payment_intent.created', object: stripeObject('payment_intent', { id, status: 'requires_payment_method' }) },
      { type: 'payment_intent.succeeded', object: stripeObject('payment_intent', { id, status: 'succeeded' }) },
    );

    await deliverAtOnce(service, earlier, later);

    expect(await stored(service, 'payment_intents', id)).toMatchObject({ status: 'succeeded', source_event_id: later.id });
  });
});
