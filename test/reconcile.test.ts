import type Stripe from 'stripe';
import { createLogger } from '../src/platform/log';
import { createMetrics } from '../src/platform/metrics';
import { reconcileEvents, reconcileScheduleId } from '../src/intake/reconcile';
import type { StripeEvent } from '../src/platform/stripe-event';
import { admin, countExecutions, deliverTwiceAndWait, eventStatusWhenDone, startTestService, type TestService } from './support/service';
import { sampleValue } from './support/metrics-text';
import { deliver, stripeEvent, stripeObject } from './support/stripe-events';

let service: TestService;

beforeAll(async () => {
  service = await startTestService({
    overrides: { STRIPE_SECRET_KEY: 'sk_test_123', STRIPE_API_BASE: process.env.TEST_STRIPE_API_BASE! },
  });
});

afterAll(async () => {
  await service?.stop();
});

/** The one event stripe-mock's events API lists (from its fixtures). */
async function stripeMockEvent(): Promise<StripeEvent> {
  const response = await fetch(`${process.env.TEST_STRIPE_API_BASE}/v1/events?limit=1`, {
    headers: { authorization: 'Bearer sk_test_123' },
  });
  return ((await response.json()) as { data: StripeEvent[] }).data[0];
}

describe('against stripe-mock', () => {
  test('when an event Stripe lists never reached us, then reconcile starts its workflow, once, even run twice at the same time', async () => {
    const missed = await stripeMockEvent();

    const concurrent = await Promise.all([
      admin(service, '/reconcile', { method: 'POST' }),
      admin(service, '/reconcile', { method: 'POST' }),
    ]);
    const later = await admin(service, '/reconcile', { method: 'POST' });

    expect(concurrent.map((answer) => answer.status)).toEqual([200, 200]);
    expect(concurrent.flatMap((answer) => answer.body.started)).toEqual([missed.id]);
    expect(concurrent[0].body).toMatchObject({ listed: 1, checkpoint: missed.created });
    expect(await eventStatusWhenDone(service, missed.id)).toBe('ignored');
    expect(await countExecutions(service.temporal, missed.id)).toBe(1);
    expect(later.body).toEqual({ listed: 1, started: [], checkpoint: missed.created, failed_accounts: [] });
    // A late webhook delivery of it is a duplicate, not a second run.
    expect((await deliver(service.url, missed)).body.duplicate).toBe(true);
  });

  test('when the worker starts with a Stripe key, then an hourly schedule runs reconcile', async () => {
    const schedule = service.temporal.schedule.getHandle(reconcileScheduleId(service.config.TEMPORAL_TASK_QUEUE));

    const description = await schedule.describe();
    await schedule.trigger();

    expect(description.spec.intervals).toEqual([expect.objectContaining({ every: 3_600_000 })]);
    expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: 'reconcileStripeEvents' });
    const result = await waitForScheduledRun(schedule);
    // The event stripe-mock lists was reconciled by the test before: nothing is missing now.
    expect(result).toEqual({ listed: 1, started: 0, failedAccounts: 0 });
  });
});

describe('which events it starts', () => {
  test('when Stripe lists events we have and events we lack, then exactly the missing ones start and the checkpoint moves', async () => {
    const delivered = stripeEvent('customer.created', stripeObject('customer', { id: 'cus_reconcile_known' }));
    const missedA = stripeEvent('customer.created', stripeObject('customer', { id: 'cus_reconcile_a' }), { created: delivered.created + 5 });
    const missedB = stripeEvent('customer.updated', stripeObject('customer', { id: 'cus_reconcile_b' }), { created: delivered.created + 9 });
    await deliverTwiceAndWait(service, delivered);
    const { stripe, requests } = fakeEventsApi({ platform: [missedB, missedA, delivered] });
    const deps = { db: service.database.db, temporal: service.temporal, config: service.config, stripe, log: createLogger('silent') };

    const result = await reconcileEvents(deps);

    expect(result.started.sort()).toEqual([missedA.id, missedB.id].sort());
    expect(await eventStatusWhenDone(service, missedA.id)).toBe('processed');
    expect(await eventStatusWhenDone(service, missedB.id)).toBe('processed');
    const { rows } = await service.database.db.query('SELECT count(*)::int AS n FROM customers WHERE id LIKE $1', ['cus_reconcile_%']);
    expect(rows[0].n).toBe(3);
    expect(result.checkpoint).toBe(missedB.created);

    await reconcileEvents(deps);
    // The next run reads from the checkpoint, less an hour for events Stripe lists late.
    expect(requests.filter((r) => !r.account)[1].params).toEqual({ created: { gte: missedB.created - 3600 }, limit: 100 });
  });
});

describe('connected accounts', () => {
  test('when a connected account\'s event never reached us, then reconcile lists that account\'s events as the account and starts the missed one with its account', async () => {
    const account = `acct_reconcile_${Date.now()}`;
    const delivered = stripeEvent('customer.created', stripeObject('customer', { id: 'cus_connected_known' }), { account });
    await deliverTwiceAndWait(service, delivered);
    // As the events API answers a connected account's request: its own events, no `account` on them.
    const { account: _own, ...missed } = stripeEvent('customer.created', stripeObject('customer', { id: 'cus_connected_missed' }), { created: delivered.created + 5 });
    const { stripe, requests } = fakeEventsApi({ accounts: { [account]: [missed as StripeEvent] } });
    const deps = { db: service.database.db, temporal: service.temporal, config: service.config, stripe, log: createLogger('silent') };

    const [first, second] = await Promise.all([reconcileEvents(deps), reconcileEvents(deps)]);
    const third = await reconcileEvents(deps);

    expect([...first.started, ...second.started]).toEqual([missed.id]);
    expect(third.started).toEqual([]);
    expect(await eventStatusWhenDone(service, missed.id)).toBe('processed');
    const { rows } = await service.database.db.query('SELECT account FROM customers WHERE id = $1', ['cus_connected_missed']);
    expect(rows).toEqual([{ account }]);
    expect(requests.filter((r) => r.account === account)).toHaveLength(3);
    expect(requests.at(-1)).toEqual({ params: { created: { gte: missed.created - 3600 }, limit: 100 }, account });
  });

  test('when one connected account\'s listing fails, then the others are still read and the failed one is named', async () => {
    const revoked = `acct_reconcile_a_revoked_${Date.now()}`; // listed before the other
    const fine = `acct_reconcile_z_fine_${Date.now()}`;
    for (const account of [revoked, fine]) {
      await deliverTwiceAndWait(service, stripeEvent('customer.created', stripeObject('customer', { id: `cus_${account}` }), { account }));
    }
    const { account: _own, ...missed } = stripeEvent('customer.created', stripeObject('customer', { id: 'cus_reconcile_fine_missed' }));
    const { stripe } = fakeEventsApi({ accounts: { [fine]: [missed as StripeEvent] }, revoked: [revoked] });

    const result = await reconcileEvents({ db: service.database.db, temporal: service.temporal, config: service.config, stripe, log: createLogger('silent') });

    expect(result.failedAccounts).toEqual([revoked]);
    expect(result.started).toEqual([missed.id]);
    expect(await eventStatusWhenDone(service, missed.id)).toBe('processed');
  });

  test('when a run starts missed events and an account cannot be listed, then its metrics say how many it started, how many accounts failed and when it finished', async () => {
    const revoked = `acct_reconcile_metrics_${Date.now()}`;
    await deliverTwiceAndWait(service, stripeEvent('customer.created', stripeObject('customer', { id: `cus_${revoked}` }), { account: revoked }));
    const missed = stripeEvent('customer.created', stripeObject('customer', { id: 'cus_reconcile_metrics_missed' }));
    const { stripe } = fakeEventsApi({ platform: [missed], revoked: [revoked] });
    const metrics = createMetrics();
    const now = Math.floor(Date.now() / 1000);

    await reconcileEvents({ db: service.database.db, temporal: service.temporal, config: service.config, stripe, log: createLogger('silent'), metrics }, now);
    const text = await metrics.registry.metrics();

    expect(sampleValue(text, 'stripe_reconcile_events_started_total')).toBe(1);
    expect(sampleValue(text, 'stripe_reconcile_failed_accounts')).toBe(1);
    expect(sampleValue(text, 'stripe_reconcile_last_finished_timestamp_seconds')).toBe(now);
  });

  test('when a connected account disconnected from the platform, then it is no longer listed, and it is again once it reconnects', async () => {
    const account = `acct_reconcile_gone_${Date.now()}`;
    const now = Math.floor(Date.now() / 1000);
    const application = { object: 'application', id: 'ca_reconcile', name: 'Platform' };
    await deliverTwiceAndWait(service, stripeEvent('customer.created', stripeObject('customer', { id: `cus_${account}` }), { account, created: now - 30 }));
    await storeIgnored(stripeEvent('account.application.deauthorized', application, { account, created: now - 20 }));
    const { stripe, requests } = fakeEventsApi({ revoked: [account] });
    const deps = { db: service.database.db, temporal: service.temporal, config: service.config, stripe, log: createLogger('silent') };

    const whileGone = await reconcileEvents(deps);
    await storeIgnored(stripeEvent('account.application.authorized', application, { account, created: now - 10 }));
    const listedAgain = await reconcileEvents(deps);

    expect(whileGone.failedAccounts).not.toContain(account);
    expect(listedAgain.failedAccounts).toContain(account);
    expect(requests.filter((r) => r.account === account)).toHaveLength(1);
  });

  test('when RECONCILE_CONNECTED_ACCOUNTS is false, then only the platform\'s events are listed', async () => {
    await deliverTwiceAndWait(service, stripeEvent('customer.created', stripeObject('customer', { id: 'cus_connected_off' }), { account: 'acct_reconcile_off' }));
    const { stripe, requests } = fakeEventsApi({});
    const config = { ...service.config, RECONCILE_CONNECTED_ACCOUNTS: false };

    await reconcileEvents({ db: service.database.db, temporal: service.temporal, config, stripe, log: createLogger('silent') });

    expect(requests.map((r) => r.account)).toEqual([undefined]);
  });
});

/** Delivers an event that nothing handles, twice at once, until it is stored as ignored. */
async function storeIgnored(event: StripeEvent): Promise<void> {
  await Promise.all([deliver(service.url, event), deliver(service.url, event)]);
  expect(await eventStatusWhenDone(service, event.id)).toBe('ignored');
}

/**
 * Stripe's events list, newest first, as the SDK's auto-paginating list returns it: the
 * platform's events, or a connected account's when the request names one (an error for a
 * `revoked` account); and every request it answered.
 */
function fakeEventsApi(listings: { platform?: StripeEvent[]; accounts?: Record<string, StripeEvent[]>; revoked?: string[] }) {
  const requests: { params: unknown; account: string | undefined }[] = [];
  const stripe = {
    events: {
      list(params: unknown, options?: { stripeAccount?: string }) {
        const account = options?.stripeAccount;
        requests.push({ params, account });
        const listed = (account ? listings.accounts?.[account] : listings.platform) ?? [];
        return (async function* () {
          if (account && listings.revoked?.includes(account)) throw new Error(`The account ${account} has revoked the platform's access`);
          yield* listed;
        })();
      },
    },
  } as unknown as Stripe;
  return { stripe, requests };
}

async function waitForScheduledRun(schedule: ReturnType<TestService['temporal']['schedule']['getHandle']>): Promise<unknown> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { info } = await schedule.describe();
    const run = info.recentActions[0]?.action;
    if (run) return service.temporal.workflow.getHandle(run.workflow.workflowId, run.workflow.firstExecutionRunId).result();
    if (Date.now() > deadline) throw new Error('the schedule did not start a run');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
