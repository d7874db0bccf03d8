import { createLogger } from '../src/platform/log';
import { startApi } from '../src/main/processes';
import { freePort } from './support/global-setup';
import { startApiProcess } from './support/api-process';
import { startEventWorkflow } from '../src/intake/event-workflow';
import { deliver, stripeEvent, stripeObject } from './support/stripe-events';
import {
  admin,
  countExecutions,
  deliverTwiceAndWait,
  eventStatusWhenDone,
  startTestService,
  testConfig,
  type TestService,
} from './support/service';

let service: TestService;

beforeAll(async () => {
  service = await startTestService();
});

afterAll(async () => {
  await service?.stop();
});

function customerCreated() {
  return stripeEvent('customer.created', stripeObject('customer', { id: `cus_${Date.now()}${Math.random().toString(36).slice(2, 8)}` }));
}

async function storedRows(eventId: string): Promise<number> {
  const { rows } = await service.database.db.query('SELECT count(*)::int AS n FROM stripe_events WHERE id = $1', [eventId]);
  return rows[0].n;
}

/** 5 events, each delivered 10 times to every API at once: one row, one execution, one first answer each. */
async function expectOneEachWhenDeliveredToAll(urls: string[]) {
  const events = Array.from({ length: 5 }, customerCreated);

  const answers = await Promise.all(events.map((event) => Promise.all(urls.flatMap((url) => Array.from({ length: 10 }, () => deliver(url, event))))));

  for (const [i, event] of events.entries()) {
    // A start Temporal did not take in time is answered 503 by design, and Stripe delivers again;
    // any other answer fails (listed, so the failure shows what was answered).
    const notTaken = answers[i].filter((a) => a.status === 503 && a.body?.error?.code === 'unavailable');
    expect(answers[i].filter((a) => a.status !== 200 && !notTaken.includes(a))).toEqual([]);
    const again = await Promise.all(notTaken.map((_, n) => deliver(urls[n % urls.length], event)));
    expect(again.filter((a) => a.status !== 200)).toEqual([]);
    // One answer says the event was new: none only when the delivery whose start created the
    // workflow was itself answered 503 (Temporal took it too late).
    const firsts = [...answers[i], ...again].filter((a) => a.body.duplicate === false);
    expect(firsts).toHaveLength(notTaken.length > 0 && firsts.length === 0 ? 0 : 1);
    expect(await eventStatusWhenDone(service, event.id)).toBe('processed');
    expect(await storedRows(event.id)).toBe(1);
    expect(await countExecutions(service.temporal, event.id)).toBe(1);
  }
}

describe('one workflow per Stripe event', () => {
  test('when the same event is delivered 5 times in sequence, then one row and one execution exist and only the first is not a duplicate', async () => {
    const event = customerCreated();

    const answers = [];
    for (let i = 0; i < 5; i += 1) answers.push(await deliver(service.url, event));

    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers.map((a) => a.body.duplicate)).toEqual([false, true, true, true, true]);
    expect(await eventStatusWhenDone(service, event.id)).toBe('processed');
    expect(await storedRows(event.id)).toBe(1);
    expect(await countExecutions(service.temporal, event.id)).toBe(1);
  });

  test('when the same event is delivered 20 times concurrently, then exactly one answer is not a duplicate', async () => {
    const event = customerCreated();

    const answers = await Promise.all(Array.from({ length: 20 }, () => deliver(service.url, event)));

    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(answers.filter((a) => a.body.duplicate === false)).toHaveLength(1);
    expect(await eventStatusWhenDone(service, event.id)).toBe('processed');
    expect(await storedRows(event.id)).toBe(1);
    expect(await countExecutions(service.temporal, event.id)).toBe(1);
  });

  test('when events are delivered to two API instances at once, 10 times to each, then each has one row, one execution and one answer that is not a duplicate', async () => {
    const second = await startApi({ ...service.config, PORT: 0 }, createLogger('silent'));
    try {
      await expectOneEachWhenDeliveredToAll([service.url, second.url]);
    } finally {
      await second.stop();
    }
  });

  test('when events are delivered to two API processes at once (each `npm run api`, its own pool and client), 10 times to each, then each has one row, one execution and one answer that is not a duplicate', async () => {
    const apis = await Promise.all([startApiProcess(service), startApiProcess(service)]);
    try {
      await expectOneEachWhenDeliveredToAll(apis.map((api) => api.url));
    } finally {
      await Promise.all(apis.map((api) => api.stop()));
    }
  });

  test('when an event is redelivered after its workflow completed, then it is a duplicate and no new run starts', async () => {
    const event = customerCreated();
    await deliver(service.url, event);
    const firstRun = (await service.temporal.workflow.getHandle(event.id).describe()).runId;
    await eventStatusWhenDone(service, event.id);

    const again = await deliver(service.url, event);

    expect(again).toEqual({ status: 200, body: { received: true, eventId: event.id, duplicate: true } });
    expect((await service.temporal.workflow.getHandle(event.id).describe()).runId).toBe(firstRun);
    expect(await countExecutions(service.temporal, event.id)).toBe(1);
    const { rows } = await service.database.db.query('SELECT attempts FROM stripe_events WHERE id = $1', [event.id]);
    expect(rows[0].attempts).toBe(1);
  });

  test('when a text in the payload holds a NUL character or half a surrogate pair (which PostgreSQL cannot store), then the event is stored with U+FFFD in their place and processed once', async () => {
    const id = `cus_nul_${Date.now()}`;
    const metadata = { 'note\u0000key': 'a\u0000b', cut: 'emoji \ud83d', stray: '\ude00 end', whole: 'ok 😀' };
    const event = stripeEvent('customer.updated', stripeObject('customer', { id, name: 'Zoë\u0000Null', metadata }));

    await deliverTwiceAndWait(service, event);

    const { rows } = await service.database.db.query('SELECT payload FROM stripe_events WHERE id = $1', [event.id]);
    expect(rows[0].payload.data.object).toMatchObject({
      name: 'Zoë\ufffdNull',
      metadata: { 'note\ufffdkey': 'a\ufffdb', cut: 'emoji \ufffd', stray: '\ufffd end', whole: 'ok 😀' },
    });
    expect((await admin(service, `/customers/${id}`)).body).toMatchObject({ name: 'Zoë\ufffdNull' });
    expect(await countExecutions(service.temporal, event.id)).toBe(1);
  });

  test('when an event type has no handler, then it is answered 200 and marked ignored', async () => {
    const event = stripeEvent('climate.order.created', { id: 'climorder_123', object: 'climate.order' });

    const answer = await deliver(service.url, event);

    expect(answer.status).toBe(200);
    expect(await eventStatusWhenDone(service, event.id)).toBe('ignored');
  });
});

describe('when a run begins before its event row is stored (the row is written beside the start)', () => {
  test('then its first step waits for the row, a redelivery stores it and is a duplicate, and the event is processed once', async () => {
    const event = customerCreated();
    // What a delivery leaves behind when its workflow started but its row could not be stored.
    await startEventWorkflow(service.temporal, service.config.TEMPORAL_TASK_QUEUE, event, 5_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const waiting = await service.temporal.workflow.getHandle(event.id).describe();

    const answers = await Promise.all([deliver(service.url, event), deliver(service.url, event)]);

    expect(waiting.status.name).toBe('RUNNING');
    expect(answers).toEqual(Array(2).fill({ status: 200, body: { received: true, eventId: event.id, duplicate: true } }));
    expect(await eventStatusWhenDone(service, event.id)).toBe('processed');
    expect(await countExecutions(service.temporal, event.id)).toBe(1);
    const { rows } = await service.database.db.query('SELECT attempts, workflow_id, run_id, accepted_at FROM stripe_events WHERE id = $1', [event.id]);
    expect(rows).toEqual([{ attempts: 1, workflow_id: event.id, run_id: waiting.runId, accepted_at: expect.any(Date) }]);
    expect((await admin(service, `/customers/${event.data.object.id}`)).status).toBe(200);
  });
});

describe('when Temporal is unreachable', () => {
  async function startCutOffApi() {
    const deadPort = await freePort();
    const config = testConfig(service.database, {
      TEMPORAL_ADDRESS: `127.0.0.1:${deadPort}`,
      TEMPORAL_TASK_QUEUE: service.config.TEMPORAL_TASK_QUEUE,
      TEMPORAL_START_TIMEOUT_MS: '1500',
    });
    return startApi(config, createLogger('silent'));
  }

  test('then the webhook answers 503, and a later redelivery is processed once', async () => {
    const cutOffApi = await startCutOffApi();
    const event = customerCreated();

    let first;
    try {
      first = await deliver(cutOffApi.url, event);
    } finally {
      await cutOffApi.stop();
    }
    const redelivery = await deliver(service.url, event);

    expect(first).toEqual({ status: 503, body: { error: { code: 'unavailable', message: expect.any(String) } } });
    expect(redelivery).toEqual({ status: 200, body: { received: true, eventId: event.id, duplicate: false } });
    expect(await eventStatusWhenDone(service, event.id)).toBe('processed');
    expect(await countExecutions(service.temporal, event.id)).toBe(1);
    const { rows } = await service.database.db.query('SELECT attempts FROM stripe_events WHERE id = $1', [event.id]);
    expect(rows[0].attempts).toBe(1);
  });

  test('then an event whose run began before is still answered duplicate: the database keeps the deduplication, beyond Temporal retention', async () => {
    const event = customerCreated();
    await deliver(service.url, event);
    await eventStatusWhenDone(service, event.id);
    const cutOffApi = await startCutOffApi();

    let again;
    try {
      again = await deliver(cutOffApi.url, event);
    } finally {
      await cutOffApi.stop();
    }

    expect(again).toEqual({ status: 200, body: { received: true, eventId: event.id, duplicate: true } });
  });

  test('then /readyz answers 503 naming Temporal, while /healthz still answers 200', async () => {
    const cutOffApi = await startCutOffApi();

    let ready, health;
    try {
      ready = await fetch(`${cutOffApi.url}/readyz`);
      health = await fetch(`${cutOffApi.url}/healthz`);
    } finally {
      await cutOffApi.stop();
    }

    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'unavailable', postgres: true, temporal: false });
    expect(health.status).toBe(200);
  });
});

describe('GET /readyz', () => {
  test('when PostgreSQL and Temporal answer, then it is ready', async () => {
    const response = await fetch(`${service.url}/readyz`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ready', postgres: true, temporal: true });
  });
});
