import { ConfigError, loadConfig } from '../src/platform/config';

const complete = {
  DATABASE_URL: 'postgres://postgres@localhost:5432/app',
  TEMPORAL_ADDRESS: 'localhost:7233',
  STRIPE_WEBHOOK_SECRET: 'whsec_a',
  SMTP_URL: 'smtp://localhost:1025',
};

function problemsOf(env: Record<string, string>, role: 'api' | 'worker' | 'start'): string[] {
  try {
    loadConfig(env, role);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('configuration', () => {
  test('when every required variable is set, then defaults fill the rest', () => {
    const config = loadConfig(complete, 'api');

    expect(config).toMatchObject({
      PORT: 3000,
      STRIPE_WEBHOOK_SECRET: ['whsec_a'],
      STRIPE_WEBHOOK_TOLERANCE_S: 300,
      WEBHOOK_MAX_BYTES: 1048576,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: 'stripe-events',
      DATABASE_IDLE_TIMEOUT_MS: 0,
    });
  });

  test('when several webhook secrets are given, then each is kept', () => {
    const config = loadConfig({ ...complete, STRIPE_WEBHOOK_SECRET: 'whsec_old, whsec_new' }, 'api');

    expect(config.STRIPE_WEBHOOK_SECRET).toEqual(['whsec_old', 'whsec_new']);
  });

  test('when the API has no webhook secret, then start-up names the variable', () => {
    const { STRIPE_WEBHOOK_SECRET: _, ...env } = complete;

    expect(problemsOf(env, 'api')).toEqual(['STRIPE_WEBHOOK_SECRET: is required for `npm run api`']);
  });

  test('when a value is malformed, then the message names the variable and the rule', () => {
    const problems = problemsOf({ ...complete, PORT: 'eighty', DATABASE_URL: 'mysql://x', TEMPORAL_ADDRESS: 'nohost' }, 'api');

    expect(problems).toEqual([
      expect.stringMatching(/^PORT: /),
      expect.stringMatching(/^DATABASE_URL: must be a URL starting with postgres:\/\/ or postgresql:\/\//),
      expect.stringMatching(/^TEMPORAL_ADDRESS: must look like host:port/),
    ]);
  });

  test.each(['daily', '0 6 * *', '0 6 * * * *'])('when the finance digest time is %j, then the message asks for five cron fields or off', (cron) => {
    expect(problemsOf({ ...complete, FINANCE_DIGEST_CRON: cron }, 'worker')).toEqual([
      'FINANCE_DIGEST_CRON: must be a cron expression of five fields like "0 6 * * *" (UTC), or off',
    ]);
  });

  test.each([
    ['/nowhere/logo.png', 'SELLER_LOGO_PATH: no file there'],
    [__filename, 'SELLER_LOGO_PATH: must name a .png or .jpg file'],
  ])('when the seller logo is %s, then start-up says what is wrong with it', (file, problem) => {
    expect(problemsOf({ ...complete, SELLER_LOGO_PATH: file }, 'worker')).toEqual([problem]);
  });

  test('when a webhook secret lacks the whsec_ prefix, then it is rejected', () => {
    expect(problemsOf({ ...complete, STRIPE_WEBHOOK_SECRET: 'whsec_ok,sk_live_oops' }, 'api')).toEqual([
      expect.stringMatching(/^STRIPE_WEBHOOK_SECRET.*whsec_/),
    ]);
  });

  test.each(['sk_test_123', 'sk_live_abc', 'rk_test_123', 'rk_live_abc'])('when the Stripe key is %s, then it is accepted', (key) => {
    expect(problemsOf({ ...complete, STRIPE_SECRET_KEY: key }, 'worker')).toEqual([]);
  });

  test.each(['pk_live_abc', 'whsec_abc', 'sk_abc'])('when the Stripe key is %s, then the message says which keys are accepted', (key) => {
    expect(problemsOf({ ...complete, STRIPE_SECRET_KEY: key }, 'worker')).toEqual([
      'STRIPE_SECRET_KEY: must be a secret key (sk_test_…, sk_live_…) or a restricted key (rk_test_…, rk_live_…)',
    ]);
  });

  test('when a variable is set but empty, then it counts as unset', () => {
    expect(problemsOf({ ...complete, SMTP_URL: '' }, 'worker')).toEqual(['SMTP_URL: is required for `npm run worker`']);
  });

  test.each(['abc', '2.5', '1e3', '0x10', '-1'])('when a number setting is %s, then it is refused as not a whole number in plain digits', (value) => {
    expect(problemsOf({ ...complete, PORT: value, DATABASE_POOL_SIZE: value }, 'worker')).toEqual([
      'PORT: must be a whole number from 0 to 65535',
      'DATABASE_POOL_SIZE: must be a whole number of at least 1',
    ]);
  });

  test('when operations settings are malformed, then each is named', () => {
    const problems = problemsOf(
      {
        ...complete,
        WEBHOOK_INVALID_SIGNATURE_LIMIT: '0',
        WORKER_METRICS_PORT: '70000',
        WORKER_MAX_CACHED_WORKFLOWS: '-1',
        TEMPORAL_SDK_METRICS_ADDRESS: '9464',
        DATABASE_IDLE_TIMEOUT_MS: '-1',
      },
      'worker',
    );

    expect(problems).toEqual([
      expect.stringMatching(/^WEBHOOK_INVALID_SIGNATURE_LIMIT: /),
      expect.stringMatching(/^WORKER_METRICS_PORT: .*65535/),
      'WORKER_MAX_CACHED_WORKFLOWS: must be a whole number of at least 0',
      'DATABASE_IDLE_TIMEOUT_MS: must be a whole number of at least 0',
      expect.stringMatching(/^TEMPORAL_SDK_METRICS_ADDRESS: must look like host:port/),
    ]);
  });

  test('when a worker may run more tasks at once than it caches workflows, then the limit is refused with both names', () => {
    expect(problemsOf({ ...complete, WORKER_MAX_CONCURRENT_TASKS: '32', WORKER_MAX_CACHED_WORKFLOWS: '20' }, 'worker')).toEqual([
      'WORKER_MAX_CONCURRENT_TASKS: must not exceed WORKER_MAX_CACHED_WORKFLOWS (20), or set the cache to 0',
    ]);
    expect(problemsOf({ ...complete, WORKER_MAX_CONCURRENT_TASKS: '32', WORKER_MAX_CACHED_WORKFLOWS: '0' }, 'worker')).toEqual([]);
    expect(problemsOf({ ...complete, WORKER_MAX_CONCURRENT_TASKS: '1' }, 'worker')).toEqual(['WORKER_MAX_CONCURRENT_TASKS: must be a whole number of at least 2']);
  });

  test('when npm run cluster starts workers, then they run below the API processes unless told otherwise, and a nice value past 19 is refused', () => {
    expect(loadConfig({}, 'start').CLUSTER_WORKER_NICE).toBe(10);
    expect(loadConfig({ CLUSTER_WORKER_NICE: '0' }, 'start').CLUSTER_WORKER_NICE).toBe(0);
    expect(problemsOf({ CLUSTER_WORKER_NICE: '20' }, 'start')).toEqual(['CLUSTER_WORKER_NICE: must be a whole number from 0 to 19']);
  });

  test('when npm start runs with nothing configured, then it is valid (embedded defaults)', () => {
    expect(problemsOf({}, 'start')).toEqual([]);
  });
});
