import { ConfigError, loadConfig } from '../src/platform/config';
import { createAllowlist } from '../src/intake/ip-allowlist';
import { FailureLimiter } from '../src/intake/rate-limit';
import { limiterKey } from '../src/intake/client-address';
import { until } from './support/until';
import { startTestService, type TestService } from './support/service';
import { deliver, stripeEvent, stripeObject } from './support/stripe-events';

const from = (address: string) => ({ headers: { 'x-forwarded-for': address } });
const customerEvent = () => stripeEvent('customer.created', stripeObject('customer'));

async function storedEvents(service: TestService): Promise<number> {
  return (await service.database.db.query('SELECT count(*)::int AS n FROM stripe_events')).rows[0].n;
}

async function deliveryRows(service: TestService, address: string): Promise<number> {
  return (await service.database.db.query('SELECT count(*)::int AS n FROM webhook_deliveries WHERE remote_addr = $1', [address])).rows[0].n;
}

describe('rate limit of invalid signatures', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ worker: false, overrides: { TRUST_PROXY: 'true', WEBHOOK_INVALID_SIGNATURE_LIMIT: '3' } });
  });
  afterAll(() => service?.stop());

  test('when an address sends more forged requests than the limit, then the next forgery gets 429 with Retry-After and nothing is stored', async () => {
    const forged = { ...from('198.51.100.9'), secret: 'whsec_forged_0123456789' };
    for (let i = 0; i < 3; i += 1) expect((await deliver(service.url, customerEvent(), forged)).status).toBe(400);

    const limited = await deliver(service.url, customerEvent(), forged);

    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.retryAfter)).toBeGreaterThan(0);
    expect(await storedEvents(service)).toBe(0);
  });

  test('when the limited address sends a correctly signed event (Stripe behind the same proxy), then it is accepted', async () => {
    const answer = await deliver(service.url, customerEvent(), from('198.51.100.9'));

    expect(answer.status).toBe(200);
    expect(await storedEvents(service)).toBe(1);
  });

  test('when forgeries rotate through one IPv6 /64, then they count as one address', async () => {
    const forged = (host: number) => ({ ...from(`2001:db8:7:7::${host}`), secret: 'whsec_forged_0123456789' });
    for (let host = 1; host <= 3; host += 1) expect((await deliver(service.url, customerEvent(), forged(host))).status).toBe(400);

    expect((await deliver(service.url, customerEvent(), forged(4))).status).toBe(429);
    expect((await deliver(service.url, customerEvent(), { ...from('2001:db8:7:8::1'), secret: 'whsec_forged_0123456789' })).status).toBe(400);
  });

  test('when forged requests are refused, then nothing is written to the delivery log', async () => {
    await deliver(service.url, customerEvent(), { ...from('198.51.100.77'), secret: 'whsec_forged_0123456789' });
    await deliver(service.url, customerEvent(), { ...from('198.51.100.77'), header: 't=1,v1=00' });
    // A correctly signed one from the same address, so that its row (written just after the
    // answer) shows the log has caught up.
    await deliver(service.url, customerEvent(), from('198.51.100.77'));
    await until(async () => (await deliveryRows(service, '198.51.100.77')) > 0);

    expect(await deliveryRows(service, '198.51.100.77')).toBe(1);
  });

  test.each([
    ['203.0.113.9', '203.0.113.9'],
    ['2001:db8:0:1:2:3:4:5', '2001:db8:0:1::/64'],
    ['2001:0db8:0000:0001::9', '2001:db8:0:1::/64'],
    ['::1', '0:0:0:0::/64'],
  ])('when the limiter keys %s, then the key is %s', (address, key) => {
    expect(limiterKey(address)).toBe(key);
  });

  test('when another address sends a valid event meanwhile, then it is accepted', async () => {
    const answer = await deliver(service.url, customerEvent(), from('198.51.100.10'));

    expect(answer.status).toBe(200);
  });

  test('when the window has passed, then the address may try again', () => {
    const limiter = new FailureLimiter(2, 60_000);
    limiter.recordFailure('a', 0);
    limiter.recordFailure('a', 1_000);

    expect(limiter.retryAfterSeconds('a', 30_000)).toBe(30);
    expect(limiter.retryAfterSeconds('a', 60_000)).toBe(0);
  });

  test('when more addresses fail than it keeps, then memory stays bounded and expired windows go first', () => {
    const limiter = new FailureLimiter(1, 60_000, 2);
    limiter.recordFailure('old', 0);
    limiter.recordFailure('mid', 30_000);

    limiter.recordFailure('new', 70_000);

    expect(limiter.retryAfterSeconds('old', 70_000)).toBe(0);
    expect(limiter.retryAfterSeconds('mid', 70_000)).toBe(20);
    expect(limiter.retryAfterSeconds('new', 70_000)).toBe(60);
  });
});

describe('WEBHOOK_IP_ALLOWLIST', () => {
  describe('behind a trusted proxy', () => {
    let service: TestService;
    beforeAll(async () => {
      service = await startTestService({
        worker: false,
        overrides: { TRUST_PROXY: 'true', WEBHOOK_IP_ALLOWLIST: '203.0.113.0/24, 2001:db8::/32' },
      });
    });
    afterAll(() => service?.stop());

    test('when the client address is listed, then the event is accepted', async () => {
      expect((await deliver(service.url, customerEvent(), from('203.0.113.7'))).status).toBe(200);
      expect((await deliver(service.url, customerEvent(), from('2001:db8::5'))).status).toBe(200);
    });

    test('when the client writes a listed address left of what the proxy appended, then the proxy\'s entry decides: 403', async () => {
      const answer = await deliver(service.url, customerEvent(), from('203.0.113.7, 198.51.100.1'));

      expect(answer.status).toBe(403);
    });

    test('when the proxy appended a listed address after whatever the client wrote, then it is accepted', async () => {
      expect((await deliver(service.url, customerEvent(), from('198.51.100.1, 203.0.113.8'))).status).toBe(200);
    });

    test('when the entry the proxy position holds is not an IP address, then the socket peer decides: 403', async () => {
      expect((await deliver(service.url, customerEvent(), from('203.0.113.7, not-an-address'))).status).toBe(403);
    });

    test('when it is not, then 403 address_not_allowed and nothing stored', async () => {
      const before = await storedEvents(service);

      const answer = await deliver(service.url, customerEvent(), from('198.51.100.1'));

      expect(answer.status).toBe(403);
      expect(answer.body.error.code).toBe('address_not_allowed');
      expect(await storedEvents(service)).toBe(before);
    });
  });

  describe('without a trusted proxy', () => {
    let service: TestService;
    beforeAll(async () => {
      service = await startTestService({ worker: false, overrides: { WEBHOOK_IP_ALLOWLIST: '203.0.113.0/24' } });
    });
    afterAll(() => service?.stop());

    test('when a client forges X-Forwarded-For with a listed address, then its own address decides: 403', async () => {
      const answer = await deliver(service.url, customerEvent(), from('203.0.113.7'));

      expect(answer.status).toBe(403);
    });
  });

  test('when an IPv4 client arrives on a dual-stack socket, then its mapped address matches the IPv4 range', () => {
    const allowed = createAllowlist(['127.0.0.1/32']);

    expect(allowed('::ffff:127.0.0.1')).toBe(true);
    expect(allowed('::ffff:127.0.0.2')).toBe(false);
    expect(allowed('not-an-address')).toBe(false);
  });

  test.each(['10.0.0.0/33', '10.0.0/8', 'example.com', '2001:db8::/129', '10.0.0.0/8/1'])(
    'when the allowlist holds %s, then the config error names WEBHOOK_IP_ALLOWLIST',
    (cidr) => {
      expect(() => loadConfig({ WEBHOOK_IP_ALLOWLIST: `127.0.0.1,${cidr}` }, 'start')).toThrow(ConfigError);
      expect(() => loadConfig({ WEBHOOK_IP_ALLOWLIST: `127.0.0.1,${cidr}` }, 'start')).toThrow(/WEBHOOK_IP_ALLOWLIST: .*(not an IP|prefix)/);
    },
  );
});
