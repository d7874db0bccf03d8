import { healthOf } from '../src/intake/webhook-health';
import { pruneDeliveries } from '../src/store/deliveries';
import { until } from './support/until';
import { startTestService, type TestService } from './support/service';
import { deliver, stripeEvent, stripeObject } from './support/stripe-events';

describe('thresholds', () => {
  test.each([
    [0, 0, 'healthy'],
    [100, 10, 'healthy'],
    [100, 11, 'degraded'],
    [100, 20, 'degraded'],
    [100, 21, 'unhealthy'],
    [3, 3, 'unhealthy'],
  ])('when %i deliveries had %i failures, then %s', (deliveries, failures, status) => {
    expect(healthOf(deliveries, failures)).toBe(status);
  });
});

describe('GET /webhooks/health', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ worker: false, overrides: { STRIPE_EXPECT_LIVEMODE: 'false' } });
  });
  afterAll(() => service?.stop());

  const health = async (): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${service.url}/webhooks/health`);
    return { status: response.status, body: await response.json() };
  };
  /** The log is written just after each answer: health once it counts this many deliveries. */
  const healthAfter = async (deliveries: number) => {
    await until(async () => (await health()).body.deliveries >= deliveries);
    return health();
  };
  const good = () => deliver(service.url, stripeEvent('customer.created', stripeObject('customer')));
  // Signed, so it is a delivery from Stripe, and refused: a failure health must count.
  const refused = () => deliver(service.url, stripeEvent('customer.created', stripeObject('customer'), { livemode: true }));
  const forged = () => deliver(service.url, stripeEvent('customer.created', stripeObject('customer')), { secret: 'whsec_forged_000000' });

  test('when verified deliveries succeed and fail, then the status follows the failure rate of the last 24 hours, with counts', async () => {
    for (let i = 0; i < 9; i += 1) await good();
    await refused();
    expect((await healthAfter(10)).body).toEqual({
      status: 'healthy',
      window: '24h',
      deliveries: 10,
      failures: 1,
      failure_rate: 0.1,
      outcomes: { accepted: 9, livemode_mismatch: 1 },
    });

    await refused();
    expect((await healthAfter(11)).body).toMatchObject({ status: 'degraded', deliveries: 11, failures: 2 });

    await refused();
    const unhealthy = await healthAfter(12);
    expect(unhealthy.body).toMatchObject({ status: 'unhealthy', deliveries: 12, failures: 3 });
    expect(unhealthy.status).toBe(503);
  });

  test('when failures are older than 24 hours, then they no longer count', async () => {
    await service.database.db.query(`UPDATE webhook_deliveries SET received_at = now() - interval '25 hours' WHERE http_status >= 300`);

    expect((await health()).body).toMatchObject({ status: 'healthy', deliveries: 9, failures: 0 });
  });

  test('when a flood of forged requests arrives, then health does not move (only verified deliveries count)', async () => {
    const before = (await health()).body;

    for (let i = 0; i < 30; i += 1) await forged();

    expect((await health()).body).toEqual(before);
  });

  test('when deliveries are older than the retention, then pruning forgets them and keeps the rest', async () => {
    await service.database.db.query(`UPDATE webhook_deliveries SET received_at = now() - interval '31 days' WHERE http_status >= 300`);

    const pruned = await pruneDeliveries(service.database.db, 30);

    expect(pruned).toBe(3);
    expect((await health()).body).toMatchObject({ deliveries: 9 });
  });
});
