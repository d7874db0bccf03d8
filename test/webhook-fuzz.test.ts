import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { startTestService, type TestService } from './support/service';
import { stripeEvent, stripeObject, testSecret } from './support/stripe-events';

// Bad requests of every shape: the answer is a 4xx, nothing is stored, nothing starts, and the
// service keeps serving. `FUZZ_RUNS` raises the count (npm run chaos uses more).
const numRuns = Number(process.env.FUZZ_RUNS ?? 60);
const maxBytes = 4096;

let service: TestService;

beforeAll(async () => {
  service = await startTestService({
    worker: false,
    // Small limit to reach it cheaply; no rate limit, or it would answer most of the run.
    overrides: { WEBHOOK_MAX_BYTES: String(maxBytes), WEBHOOK_INVALID_SIGNATURE_LIMIT: '1000000' },
  });
});

afterAll(() => service?.stop());

async function post(body: Uint8Array | string, headers: Record<string, string>): Promise<number> {
  const response = await fetch(`${service.url}/webhooks/stripe`, { method: 'POST', headers, body });
  await response.arrayBuffer();
  return response.status;
}

const printable = fc.stringMatching(/^[ -~]{0,120}$/);
const now = () => Math.floor(Date.now() / 1000);

const bodies = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.jsonValue().map((value) => JSON.stringify(value) ?? 'null'),
  fc.uint8Array({ maxLength: 600 }),
  fc.constant(JSON.stringify(stripeEvent('customer.created', stripeObject('customer')))),
  fc.integer({ min: maxBytes + 1, max: maxBytes * 3 }).map((size) => 'x'.repeat(size)),
);

const signatures = fc.oneof(
  printable,
  fc.constant(undefined),
  fc.tuple(fc.integer({ min: 0, max: 4_000_000_000 }), fc.stringMatching(/^[0-9a-f]{64}$/)).map(([t, v1]) => `t=${t},v1=${v1}`),
  fc.stringMatching(/^[0-9a-f]{64}$/).map((v1) => `t=${now()},v1=${v1}`),
  fc.constant(`t=${now()},v0=${'0'.repeat(64)}`),
);

const contentTypes = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
);

const encodings = fc.option(fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'bogus'), { nil: undefined });

async function nothingAccepted(): Promise<void> {
  const { rows } = await service.database.db.query('SELECT count(*)::int AS n FROM stripe_events');
  expect(rows[0].n).toBe(0);
  let executions = 0;
  for await (const _ of service.temporal.workflow.list({ query: `TaskQueue = '${service.config.TEMPORAL_TASK_QUEUE}'` })) executions += 1;
  expect(executions).toBe(0);
  expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
}

test('when bodies, signatures, content types and encodings are random, then every answer is a 4xx and nothing is accepted', async () => {
  await fc.assert(
    fc.asyncProperty(bodies, signatures, contentTypes, encodings, async (body, signature, contentType, encoding) => {
      const headers: Record<string, string> = { 'content-type': contentType };
      if (signature !== undefined) headers['stripe-signature'] = signature;
      if (encoding !== undefined) headers['content-encoding'] = encoding;

      const status = await post(body, headers);

      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(500);
    }),
    { numRuns },
  );
  await nothingAccepted();
});

test('when a validly signed body is not a Stripe event (any JSON, any bytes, other encodings), then 400 and nothing is accepted', async () => {
  const signedBodies = fc.oneof(
    fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? 'null')),
    fc.uint8Array({ maxLength: 600 }).map((bytes) => Buffer.from(bytes)),
    // A real event, but in UTF-16 or Latin-1: signed as sent, unreadable as UTF-8 JSON.
    fc.constantFrom('utf16le', 'latin1').map((encoding) =>
      Buffer.from(JSON.stringify(stripeEvent('customer.created', stripeObject('customer', { name: 'Zoë ÿ' }))), encoding as BufferEncoding),
    ),
    // Looks like an event, but a field is wrong.
    fc.record({
      id: fc.oneof(printable, fc.integer()),
      object: fc.constantFrom('event', 'charge', undefined),
      type: fc.oneof(fc.constant(''), fc.integer()),
      created: fc.oneof(fc.double(), printable),
      livemode: fc.oneof(fc.string(), fc.constant(null)),
      data: fc.oneof(fc.constant(null), fc.record({ object: fc.constant(null) })),
    }).map((event) => Buffer.from(JSON.stringify(event))),
  );

  await fc.assert(
    fc.asyncProperty(signedBodies, async (body) => {
      const status = await post(body, { 'content-type': 'application/json', 'stripe-signature': signatureOverBytes(body) });

      expect(status).toBe(400);
    }),
    { numRuns },
  );
  await nothingAccepted();
});

/** Stripe signs `${t}.${body}` over the raw bytes, whatever they are. */
function signatureOverBytes(body: Buffer): string {
  const t = now();
  const v1 = createHmac('sha256', testSecret).update(`${t}.`).update(body).digest('hex');
  return `t=${t},v1=${v1}`;
}
