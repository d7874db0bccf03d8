import { loadConfig, ConfigError } from '../src/platform/config';
import { admin, startTestService, testAdminKey, testReadKey, type TestService } from './support/service';

/** Who may use the admin API, from where, and how guessing is slowed. */

const from = (address: string) => ({ 'x-forwarded-for': address });
const rotatedKey = 'rotated-admin-key-Qw3Er5Ty7Ui9Op1As2Df4Gh6Jk8Lz0X';

describe('on the public listener', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({
      worker: false,
      overrides: { TRUST_PROXY: '1', ADMIN_AUTH_FAILURE_LIMIT: '3', ADMIN_API_KEY: `${testAdminKey},${rotatedKey}` },
    });
  });
  afterAll(() => service?.stop());

  test('when either of two keys is used while rotating, then both may read and write', async () => {
    for (const key of [testAdminKey, rotatedKey]) {
      expect((await admin(service, '/stats', { authorization: `Bearer ${key}` })).status).toBe(200);
      expect((await admin(service, '/cleanup', { authorization: `Bearer ${key}`, body: { olderThanDays: 3650 } })).status).toBe(200);
    }
  });

  test('when a read-only key reads, then 200; when it tries a change, then 403 read_only_key and nothing happens', async () => {
    expect((await admin(service, '/stats', { authorization: `Bearer ${testReadKey}` })).status).toBe(200);

    const change = await admin(service, '/cleanup', { authorization: `Bearer ${testReadKey}`, body: { olderThanDays: 3650 } });

    expect(change.status).toBe(403);
    expect(change.body.error.code).toBe('read_only_key');
  });

  test('when an address sends more wrong keys than the limit, then it gets 429 with Retry-After, even with the right key, and other addresses do not', async () => {
    for (let i = 0; i < 3; i += 1) {
      expect((await admin(service, '/stats', { authorization: 'Bearer guess', headers: from('198.51.100.20') })).status).toBe(401);
    }

    const limited = await admin(service, '/stats', { headers: from('198.51.100.20') });

    expect(limited.status).toBe(429);
    expect(Number(limited.retryAfter)).toBeGreaterThan(0);
    expect((await admin(service, '/stats', { headers: from('198.51.100.21') })).status).toBe(200);
  });
});

describe('with ADMIN_PORT', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ worker: false, overrides: { ADMIN_PORT: '0' } });
  });
  afterAll(() => service?.stop());

  test('when the admin API or /metrics is asked on the public port, then 404', async () => {
    expect((await fetch(`${service.url}/admin/stats`, { headers: { authorization: `Bearer ${testAdminKey}` } })).status).toBe(404);
    expect((await fetch(`${service.url}/metrics`)).status).toBe(404);
  });

  test('when they are asked on the internal listener, then they answer, and the webhook is not there', async () => {
    expect(service.api.adminUrl).not.toBe(service.url);
    expect(new URL(service.api.adminUrl).hostname).toBe('127.0.0.1');
    expect((await admin(service, '/stats')).status).toBe(200);
    expect((await fetch(`${service.api.adminUrl}/metrics`)).status).toBe(200);
    expect((await fetch(`${service.api.adminUrl}/webhooks/stripe`, { method: 'POST' })).status).toBe(404);
  });
});

describe('key strength', () => {
  test.each([
    ['a short key', 'too-short-0123456789'],
    ['a long key of few characters', 'ab'.repeat(30)],
  ])('when ADMIN_API_KEY is %s, then start-up refuses it and says how to make one', (_, key) => {
    expect(() => loadConfig({ ADMIN_API_KEY: key }, 'start')).toThrow(ConfigError);
    expect(() => loadConfig({ ADMIN_API_KEY: key }, 'start')).toThrow(/ADMIN_API_KEY.*32 random bytes.*openssl rand/);
  });

  test('when three keys are given, then start-up refuses them: two is for rotation', () => {
    expect(() => loadConfig({ ADMIN_API_KEY: `${testAdminKey},${rotatedKey},${testReadKey}` }, 'start')).toThrow(/ADMIN_API_KEY.*at most two keys/);
  });
});
