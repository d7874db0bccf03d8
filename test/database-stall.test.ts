import { startStallingProxy, type StallingProxy } from './support/stalling-proxy';
import { startTestService, type TestService } from './support/service';
import { deliver, stripeEvent, stripeObject } from './support/stripe-events';

/**
 * A PostgreSQL that stops answering (without closing connections) must not hang the webhook
 * endpoint or the readiness probe: each answers in time, and Stripe delivers again.
 */

let proxy: StallingProxy;
let service: TestService;

beforeAll(async () => {
  proxy = await startStallingProxy({ host: '127.0.0.1', port: 5432 });
  service = await startTestService({
    worker: false,
    databaseUrl: (url) => Object.assign(new URL(url), { host: `127.0.0.1:${proxy.port}` }).toString(),
    overrides: { WEBHOOK_DEADLINE_MS: '1500', DATABASE_STATEMENT_TIMEOUT_MS: '3000', DATABASE_CONNECT_TIMEOUT_MS: '1000' },
  });
});

afterAll(async () => {
  proxy?.resume();
  await service?.stop();
  await proxy?.stop();
});

const customerEvent = () => stripeEvent('customer.created', stripeObject('customer'));

/** Fails the test instead of waiting for a hung request. */
const answeredWithin = (ms: number) => AbortSignal.timeout(ms);

describe('when PostgreSQL stalls', () => {
  beforeAll(() => proxy.stall());

  test('then a signed webhook is answered 503 by its deadline, telling Stripe to deliver again', async () => {
    const answer = await deliver(service.url, customerEvent(), { signal: answeredWithin(5_000) });

    expect(answer.status).toBe(503);
    expect(answer.body.error.code).toBe('unavailable');
  });

  test('then a forged webhook is refused at once (it never waits on the database)', async () => {
    const answer = await deliver(service.url, customerEvent(), { secret: 'whsec_forged_0123456789', signal: answeredWithin(1_000) });

    expect(answer.status).toBe(400);
  });

  test('then /readyz answers 503 with postgres false', async () => {
    const response = await fetch(`${service.url}/readyz`, { signal: answeredWithin(5_000) });

    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: 'unavailable', postgres: false });
  });
});

describe('when PostgreSQL answers again', () => {
  beforeAll(() => proxy.resume());

  test('then the same kind of delivery is accepted', async () => {
    const answer = await deliver(service.url, customerEvent(), { signal: answeredWithin(10_000) });

    expect(answer.status).toBe(200);
  });
});
