import fs from 'node:fs';
import { z } from 'zod';
import { isIP } from 'node:net';

/**
 * The one configuration schema of the service. Every process (API, worker, `npm start`)
 * reads its settings here, so a wrong or missing value is reported the same way everywhere:
 * by the name of the environment variable.
 */

const text = z.string().trim().min(1);
/** A whole number in plain digits (`2.5`, `1e3`, `0x10` and `-1` are refused) within its bounds. */
function whole(min: number, max = Number.MAX_SAFE_INTEGER, tooLarge?: string) {
  const bounds = max === Number.MAX_SAFE_INTEGER ? `must be a whole number of at least ${min}` : `must be a whole number from ${min} to ${max}`;
  return z
    .string()
    .trim()
    .regex(/^\d{1,15}$/, bounds)
    .transform(Number)
    .pipe(z.number().min(min, bounds).max(max, tooLarge ?? bounds));
}
const port = whole(0, 65535);
const flag = z.enum(['true', 'false']).transform((value) => value === 'true');
const url = (protocols: string[]) =>
  text.refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );
const hostPort = text.regex(/^[^\s:/]+:\d{1,5}$/, 'must look like host:port, for example localhost:7233');

/** At least 32 random bytes, as `openssl rand -base64 32` or `openssl rand -hex 32` prints them. */
const adminKeys = text
  .transform((value) => value.split(',').map((key) => key.trim()).filter(Boolean))
  .pipe(
    z
      .array(
        z.string().refine((key) => key.length >= 43 && new Set(key).size >= 16, {
          message: 'every key must be at least 32 random bytes, e.g. the output of `openssl rand -base64 32`',
        }),
      )
      .min(1)
      .max(2, 'at most two keys (the old and the new one while rotating)'),
  );

const units = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
function durationMs(step: string): number {
  return Number(step.slice(0, -1)) * units[step.slice(-1) as keyof typeof units];
}
const duration = (example: string) =>
  text.regex(/^\s*\d+[smhd]\s*$/, `must be a duration like ${example} (units s, m, h, d)`).transform((value) => durationMs(value.trim()));

const schema = z.object({
  PORT: port.default(3000),
  // How many proxies in front of the API append to X-Forwarded-For: the client address is the one
  // that many entries from the right (`true` is 1, `false` is 0: the socket's peer).
  TRUST_PROXY: z
    .string()
    .regex(/^(true|false|\d{1,2})$/, 'must be the number of trusted proxies (0 to 10), or true (1) or false (0)')
    .transform((value) => (value === 'true' ? 1 : value === 'false' ? 0 : Number(value)))
    .pipe(z.number().int().max(10, 'must be at most 10 proxies'))
    .default(0),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // `auto`: human-readable lines when standard output is a terminal, JSON lines otherwise.
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),

  STRIPE_WEBHOOK_SECRET: text
    .transform((value) => value.split(',').map((secret) => secret.trim()).filter(Boolean))
    .pipe(z.array(z.string().startsWith('whsec_', 'every secret must start with whsec_')).min(1))
    .optional(),
  STRIPE_WEBHOOK_TOLERANCE_S: whole(1).default(300),
  WEBHOOK_MAX_BYTES: whole(1).default(1024 * 1024),
  STRIPE_EXPECT_LIVEMODE: flag.optional(),
  // Only these addresses may post webhooks: `3.18.12.63/32,3.130.192.231`. Behind a proxy, set TRUST_PROXY.
  WEBHOOK_IP_ALLOWLIST: text
    .transform((value) => value.split(',').map((cidr) => cidr.trim()).filter(Boolean))
    .superRefine((cidrs, ctx) => {
      for (const problem of cidrs.map(cidrProblem)) if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  // Requests with a bad signature allowed per remote address and minute; more are answered 429.
  WEBHOOK_INVALID_SIGNATURE_LIMIT: whole(1).default(20),
  // Verified deliveries are logged (for /webhooks/health) and forgotten after this many days.
  WEBHOOK_DELIVERY_RETENTION_DAYS: whole(1).default(30),
  // A secret key (sk_) or, better, a restricted key (rk_) with only the permissions the process needs (README).
  STRIPE_SECRET_KEY: text.regex(/^(sk|rk)_(test|live)_\w+$/, 'must be a secret key (sk_test_…, sk_live_…) or a restricted key (rk_test_…, rk_live_…)').optional(),
  STRIPE_API_BASE: url(['http:', 'https:']).optional(),

  // `npm run worker` serves its own /metrics here (the API serves /metrics on PORT).
  WORKER_METRICS_PORT: port.optional(),
  // How often the ledger-wide imbalance gauge sums the whole ledger (0: at every scrape).
  LEDGER_IMBALANCE_CHECK_MS: whole(0).default(600_000),
  // Workflows a worker keeps in memory between their tasks. Event workflows finish in seconds;
  // the rest of the cache holds dunnings waiting on timers, which are cheap to replay when a
  // step is due (BENCHMARKS.md).
  WORKER_MAX_CACHED_WORKFLOWS: whole(0).default(100),
  // Events a worker works on at once: workflow tasks, and the local activities (an event's
  // steps) inside them. Unset: the SDK's defaults (40 and 100). Which is best depends on the
  // deployment: on one shared machine with the dev server, 16 made starts, and so
  // acknowledgements, faster at the same throughput; against the server on PostgreSQL, where an
  // event takes longer, 16 halved the throughput (BENCHMARKS.md).
  WORKER_MAX_CONCURRENT_TASKS: whole(2).optional(),

  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  DATABASE_POOL_SIZE: whole(1).default(10),
  // A stalled PostgreSQL fails callers after these instead of hanging them.
  DATABASE_CONNECT_TIMEOUT_MS: whole(1).default(5_000),
  DATABASE_STATEMENT_TIMEOUT_MS: whole(1).default(30_000),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: whole(1).default(60_000),
  // 0 keeps idle connections open: one opened on an acknowledgement's path costs it a connect and
  // every statement's preparation again (pg closes them after 10 s idle by default).
  DATABASE_IDLE_TIMEOUT_MS: whole(0).default(0),
  // Off only behind a pooler in transaction mode that does not keep prepared statements apart (PgBouncer before 1.21).
  DATABASE_PREPARED_STATEMENTS: flag.default(true),
  // A webhook not accepted by then is answered 503 (Stripe delivers it again), well before Stripe gives up on the request.
  WEBHOOK_DEADLINE_MS: whole(1).default(10_000),
  // On SIGTERM the API first answers /readyz 503 for this long (so a load balancer stops sending),
  // then stops accepting; whatever has not stopped by SHUTDOWN_TIMEOUT_MS is ended with exit code 1.
  SHUTDOWN_DRAIN_MS: whole(0).default(0),
  SHUTDOWN_TIMEOUT_MS: whole(1).default(30_000),

  TEMPORAL_ADDRESS: hostPort.optional(),
  TEMPORAL_NAMESPACE: text.default('default'),
  TEMPORAL_TASK_QUEUE: text.default('stripe-events'),
  TEMPORAL_API_KEY: text.optional(),
  TEMPORAL_TLS: flag.default(false),
  TEMPORAL_UI_URL: url(['http:', 'https:']).optional(),
  // A webhook must be answered quickly; after this the API answers 503 and Stripe retries.
  // Where the Temporal SDK serves its own Prometheus metrics (worker processes), e.g. 0.0.0.0:9464.
  TEMPORAL_SDK_METRICS_ADDRESS: hostPort.optional(),
  TEMPORAL_START_TIMEOUT_MS: whole(1).default(5000),

  SMTP_URL: url(['smtp:', 'smtps:']).optional(),
  // Connecting and the greeting may each take this long, silence mid-conversation twice as long.
  SMTP_TIMEOUT_MS: whole(1, 14_000, 'must stay below half the 30 s sending activity timeout').default(10_000),
  // Refuse to send unless the server upgrades the connection with STARTTLS (smtps:// is TLS from the start).
  SMTP_REQUIRE_TLS: flag.default(false),
  MAIL_FROM: text.default('Billing <billing@localhost>'),
  FINANCE_EMAIL: z.email().default('finance@localhost'),
  // When finance gets the daily digest of the day before (cron, UTC), or `off`.
  FINANCE_DIGEST_CRON: text
    .regex(/^(off|\S+( \S+){4})$/, 'must be a cron expression of five fields like "0 6 * * *" (UTC), or off')
    .default('0 6 * * *'),

  // Where customers sign in; the welcome email links to `${APP_URL}/set-password?token=…`.
  APP_URL: url(['http:', 'https:']).default('http://localhost:3000'),
  PASSWORD_TOKEN_TTL_HOURS: whole(1).default(72),

  // The seller printed on receipts and invoices.
  SELLER_NAME: text.default('Example Inc.'),
  SELLER_ADDRESS: text.default('1 Example Street, Example City'),
  SELLER_EMAIL: z.email().default('billing@example.com'),
  SELLER_TAX_ID: text.optional(),
  // A PNG or JPEG drawn at the top right of receipts and invoices.
  SELLER_LOGO_PATH: text
    .refine((file) => /\.(png|jpe?g)$/i.test(file), 'must name a .png or .jpg file')
    .refine((file) => fs.existsSync(file), 'no file there')
    .optional(),

  // When dunning notices go out, as offsets from the first failed payment: `0d,3d,7d,14d`.
  DUNNING_SCHEDULE: text
    .regex(/^\s*\d+[smhd]\s*(,\s*\d+[smhd]\s*)*$/, 'must be a comma-separated list of durations like 0d,3d,7d,14d (units s, m, h, d)')
    .transform((value) => value.split(',').map((step) => durationMs(step.trim())))
    .refine((steps) => steps.every((step, i) => i === 0 || step > steps[i - 1]), 'steps must be in increasing order')
    .default(['0d', '3d', '7d', '14d'].map(durationMs)),
  DUNNING_RETRY_PAYMENTS: flag.default(false),
  RECONCILE_CONNECTED_ACCOUNTS: flag.default(true),
  // After the last step, how long to wait for a payment that the last retry (or the customer)
  // just made to arrive as an event before the final action; then the invoice is checked again.
  DUNNING_FINAL_GRACE: duration('1h').default(durationMs('1h')),
  // How long before a dispute's answer is due finance is reminded of it, if it is still unanswered.
  DISPUTE_REMINDER_LEAD: duration('3d').default(durationMs('3d')),
  DUNNING_FINAL_ACTION: z.enum(['cancel_subscription', 'mark_uncollectible', 'none']).default('none'),

  // Plan tiers by price id, lowest tier first (the order decides upgrade or downgrade):
  // `pro=price_1,team=price_2`. A tier may list several prices: `pro=price_m|price_y`.
  PLAN_PRICES: text
    .regex(/^\s*\w+=[\w|]+\s*(,\s*\w+=[\w|]+\s*)*$/, 'must look like pro=price_123,team=price_456')
    .transform((value) =>
      value.split(',').map((pair) => {
        const [tier, prices] = pair.trim().split('=');
        return { tier, prices: prices.split('|') };
      }),
    )
    .default([]),
  // What each tier grants: `pro=api|exports,team=api|exports|sso`.
  PLAN_ENTITLEMENTS: text
    .regex(/^\s*\w+=[\w.|-]+\s*(,\s*\w+=[\w.|-]+\s*)*$/, 'must look like pro=api|exports,team=api|exports|sso')
    .transform((value) =>
      Object.fromEntries(value.split(',').map((pair) => {
        const [tier, entitlements] = pair.trim().split('=');
        return [tier, entitlements.split('|')];
      })) as Record<string, string[]>,
    )
    .default({}),

  // Without any key the admin API answers 404 everywhere. Each variable takes one key, or two
  // (comma-separated) while rotating; read keys may only GET.
  ADMIN_API_KEY: adminKeys.optional(),
  ADMIN_READ_API_KEY: adminKeys.optional(),
  // Serve the admin API and /metrics on this port only (not on PORT), bound to ADMIN_HOST.
  ADMIN_PORT: port.optional(),
  ADMIN_HOST: text.default('127.0.0.1'),
  // Requests with a wrong admin key allowed per address and minute; past it the address gets 429.
  ADMIN_AUTH_FAILURE_LIMIT: whole(1).default(10),

  // Only `npm start` reads these: where and on which ports the embedded parts run.
  DATA_DIR: text.default('.data'),
  EMBEDDED_POSTGRES_PORT: port.default(54329),
  EMBEDDED_TEMPORAL_PORT: port.default(7233),
  EMBEDDED_TEMPORAL_UI_PORT: port.default(8233),
  EMBEDDED_SMTP_PORT: port.default(1025),
  EMBEDDED_MAIL_UI_PORT: port.default(1080),

  // Only `npm run cluster` reads these: the production topology on one machine.
  CLUSTER_API_PROCESSES: whole(1, 16).default(2),
  CLUSTER_WORKER_PROCESSES: whole(1, 16).default(2),
  // The workers' CPU share below the API processes' (a nice value; 0: equal). BENCHMARKS.md.
  CLUSTER_WORKER_NICE: whole(0, 19).default(10),
  CLUSTER_HISTORY_SHARDS: whole(1, 1024).default(4),
});

export type Config = z.infer<typeof schema>;

/** What a process cannot run without. */
export type Role = 'api' | 'worker' | 'migrate' | 'start';

const requiredByRole: Record<Role, (keyof Config)[]> = {
  api: ['STRIPE_WEBHOOK_SECRET', 'DATABASE_URL', 'TEMPORAL_ADDRESS'],
  worker: ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'SMTP_URL'],
  migrate: ['DATABASE_URL'],
  // `npm start` fills every missing one with an embedded default.
  start: [],
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv, role: Role): Config {
  // An empty variable means "not set", as it does in most deployment tools.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = schema.safeParse(present);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const missing = requiredByRole[role].filter((name) => result.data[name] === undefined);
  if (missing.length > 0) {
    throw new ConfigError(missing.map((name) => `${name}: is required for \`npm run ${role}\``));
  }
  const { WORKER_MAX_CONCURRENT_TASKS: tasks, WORKER_MAX_CACHED_WORKFLOWS: cached } = result.data;
  // The SDK would quietly lower the limit to the cache's size; say so instead.
  if (tasks !== undefined && cached > 0 && tasks > cached) {
    throw new ConfigError([`WORKER_MAX_CONCURRENT_TASKS: must not exceed WORKER_MAX_CACHED_WORKFLOWS (${cached}), or set the cache to 0`]);
  }
  return result.data;
}

/** The variable names the schema knows, for checks of deployment files. */
export const configVariables = Object.keys(schema.shape) as (keyof Config)[];

/** Checks a CIDR like `3.18.12.63/32` or `2600:1f18::/32`; returns a problem or undefined. */
function cidrProblem(cidr: string): string | undefined {
  const [address, prefix, ...rest] = cidr.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return `${cidr} is not an IP address or CIDR`;
  if (prefix === undefined) return undefined;
  const bits = Number(prefix);
  if (!/^\d{1,3}$/.test(prefix) || bits > (family === 4 ? 32 : 128)) return `${cidr} has an invalid prefix length`;
  return undefined;
}
