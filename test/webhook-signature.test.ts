import net from 'node:net';
import { deliver, rotatedSecret, signatureHeader, stripeEvent, stripeObject } from './support/stripe-events';
import { startTestService, workflowExists, type TestService } from './support/service';
import type { StripeEvent } from '../src/platform/stripe-event';
import { until } from './support/until';

let service: TestService;

beforeAll(async () => {
  service = await startTestService({ overrides: { WEBHOOK_MAX_BYTES: '4096' } });
});

afterAll(async () => {
  await service?.stop();
});

function customerCreated(): StripeEvent {
  return stripeEvent('customer.created', stripeObject('customer'));
}

async function expectNothingStored(eventId: string) {
  const { rows } = await service.database.db.query('SELECT id FROM stripe_events WHERE id = $1', [eventId]);
  expect(rows).toHaveLength(0);
  expect(await workflowExists(service.temporal, eventId)).toBe(false);
}

const now = () => Math.floor(Date.now() / 1000);

describe('POST /webhooks/stripe signature checks', () => {
  test('when the signature is valid, then the event is accepted', async () => {
    const event = customerCreated();

    const answer = await deliver(service.url, event);

    expect(answer).toEqual({ status: 200, body: { received: true, eventId: event.id, duplicate: false } });
    expect(await workflowExists(service.temporal, event.id)).toBe(true);
  });

  test('when it is signed with the second configured secret, then the event is accepted', async () => {
    const event = customerCreated();

    const answer = await deliver(service.url, event, { secret: rotatedSecret });

    expect(answer.status).toBe(200);
  });

  test('when several v1 signatures are sent and only one matches, then the event is accepted', async () => {
    const event = customerCreated();
    const payload = JSON.stringify(event);
    const valid = signatureHeader(payload);
    const wrong = signatureHeader(payload, { secret: 'whsec_not_ours' }).split(',')[1];

    const answer = await deliver(service.url, payload, { header: `${valid.split(',')[0]},${wrong},${valid.split(',')[1]}` });

    expect(answer.status).toBe(200);
  });

  test.each([
    ['it is signed with a wrong secret', (payload: string) => signatureHeader(payload, { secret: 'whsec_wrong' }), 'signature_invalid'],
    [
      'it carries only a v0 signature',
      (payload: string) => signatureHeader(payload).replace('v1=', 'v0='),
      'signature_invalid',
    ],
    ['the header has no timestamp', (payload: string) => signatureHeader(payload).split(',')[1], 'signature_invalid'],
    ['the header is garbage', () => 'not a signature', 'signature_invalid'],
    [
      'the timestamp is stale',
      (payload: string) => signatureHeader(payload, { timestamp: now() - 301 }),
      'timestamp_out_of_tolerance',
    ],
    [
      'the timestamp is far in the future',
      (payload: string) => signatureHeader(payload, { timestamp: now() + 3600 }),
      'timestamp_out_of_tolerance',
    ],
  ])('when %s, then it is rejected and nothing is stored', async (_case, header, code) => {
    const event = customerCreated();
    const payload = JSON.stringify(event);

    const answer = await deliver(service.url, payload, { header: header(payload) });

    expect(answer).toEqual({ status: 400, body: { error: { code, message: expect.any(String) } } });
    await expectNothingStored(event.id);
  });

  test('when the header is missing, then it is rejected with signature_missing', async () => {
    const event = customerCreated();

    const answer = await deliver(service.url, event, { header: null });

    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('signature_missing');
    await expectNothingStored(event.id);
  });

  test('when the body was tampered with after signing, then it is rejected', async () => {
    const event = customerCreated();
    const header = signatureHeader(JSON.stringify(event));
    const tampered = JSON.stringify({ ...event, data: { object: { ...event.data.object, email: 'mallory@example.com' } } });

    const answer = await deliver(service.url, tampered, { header });

    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('signature_invalid');
    await expectNothingStored(event.id);
  });

  test('when a validly signed body is not JSON, then it is rejected as payload_malformed', async () => {
    const payload = '{"id":"evt_test_malformed","type":';

    const answer = await deliver(service.url, payload);

    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('payload_malformed');
    await expectNothingStored('evt_test_malformed');
  });

  test('when a validly signed JSON body is not an event, then it is rejected as payload_malformed', async () => {
    const payload = JSON.stringify({ id: 'evt_test_not_an_event', hello: 'world' });

    const answer = await deliver(service.url, payload);

    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('payload_malformed');
    expect(answer.body.error.message).toContain('`type` is missing');
    await expectNothingStored('evt_test_not_an_event');
  });

  test('when a signed event\'s id is longer than Stripe\'s 255 characters, then it is rejected as payload_malformed and no row is written', async () => {
    // Temporal refuses a workflow id this long; before this check the row was written first.
    const id = `evt_${'a'.repeat(1100)}`;

    const answer = await deliver(service.url, JSON.stringify({ ...customerCreated(), id }));

    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toContain('`id` is not an event id');
    const { rows } = await service.database.db.query('SELECT id FROM stripe_events WHERE id = $1', [id]);
    expect(rows).toHaveLength(0);
  });

  test('when a signed event\'s id is 255 characters, then it is accepted', async () => {
    const event = { ...customerCreated(), id: `evt_${'a'.repeat(251)}` };

    const answer = await deliver(service.url, event);

    expect(answer.status).toBe(200);
    expect(await workflowExists(service.temporal, event.id)).toBe(true);
  });

  test('when a signed event names a customer id longer than 255 characters, then it is rejected as payload_malformed and nothing is stored', async () => {
    // Temporal refuses a search attribute this long; before this check the row was written first.
    const event = stripeEvent('customer.created', { object: 'customer', id: `cus_${'b'.repeat(2100)}` });

    const answer = await deliver(service.url, event);

    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toContain('the customer id it names is not a Stripe id');
    await expectNothingStored(event.id);
  });

  test('when a signed event\'s type is longer than 255 characters, then it is rejected as payload_malformed and nothing is stored', async () => {
    const event = stripeEvent(`customer.${'c'.repeat(2100)}`, { object: 'customer', id: 'cus_long_type' });

    const answer = await deliver(service.url, event);

    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toContain('`type` is not an event type');
    await expectNothingStored(event.id);
  });

  test('when a signed event\'s type or a customer id it names holds the NUL character, then it is rejected as payload_malformed and nothing is stored', async () => {
    // PostgreSQL's text refuses NUL: before this check the row's insert failed while the workflow started.
    const oddType = stripeEvent('customer.\u0000created', { object: 'customer', id: 'cus_nul_type' });
    const oddCustomer = stripeEvent('customer.created', { object: 'customer', id: 'cus_nul\u0000id' });

    const answers = [await deliver(service.url, oddType), await deliver(service.url, oddCustomer)];

    expect(answers.map((answer) => answer.status)).toEqual([400, 400]);
    expect(answers[0].body.error.message).toContain('`type` is not an event type');
    expect(answers[1].body.error.message).toContain('the customer id it names is not a Stripe id');
    await expectNothingStored(oddType.id);
    await expectNothingStored(oddCustomer.id);
  });

  test('when a signed event\'s account is not a Stripe account id, then it is rejected as payload_malformed and nothing is stored', async () => {
    const event = { ...customerCreated(), account: { id: 'acct_1' } };

    const answer = await deliver(service.url, JSON.stringify(event));

    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toContain('`account` is not an account id');
    await expectNothingStored(event.id);
  });

  test('when a signed event\'s created time is past the year 9999, then it is rejected as payload_malformed and nothing is stored', async () => {
    // The row's timestamp cannot hold it: before this check its insert failed while the workflow started.
    const event = { ...customerCreated(), created: 1e15 };

    const answer = await deliver(service.url, event);

    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toContain('`created` is not a Unix timestamp');
    await expectNothingStored(event.id);
  });

  test('when a signed event\'s object has a currency that is not a currency code, then it is accepted and its workflow started', async () => {
    // Its execution's summary once threw on it, answering 503 (retried by Stripe) after the row was written.
    const event = stripeEvent('invoice.created', { object: 'invoice', id: 'in_odd_currency', amount_due: 100, currency: 'dollars' });

    const answer = await deliver(service.url, event);

    expect(answer.status).toBe(200);
    expect(await workflowExists(service.temporal, event.id)).toBe(true);
  });

  test('when the body is over the limit, then it is rejected with 413', async () => {
    const event = stripeEvent('customer.created', stripeObject('customer', { description: 'x'.repeat(5000) }));

    const answer = await deliver(service.url, event);

    expect(answer.status).toBe(413);
    expect(answer.body.error.code).toBe('payload_too_large');
    await expectNothingStored(event.id);
  });

  test('when a delivery is verified, then it is in the delivery log without its body', async () => {
    const event = customerCreated();
    await deliver(service.url, event);

    // Written just after the answer.
    const logged = async () => (await service.database.db.query(`SELECT * FROM webhook_deliveries WHERE event_id = $1`, [event.id])).rows;
    await until(async () => (await logged()).length > 0);
    const rows = await logged();

    expect(rows[0]).toMatchObject({ http_status: 200, outcome: 'accepted', event_id: event.id });
    expect(JSON.stringify(rows[0])).not.toContain('"object"');
  });

  test('when the header fails the cheap checks, then it is refused before the body is read (an oversized body is not even noticed)', async () => {
    const stale = stripeEvent('customer.created', stripeObject('customer', { description: 'x'.repeat(5000) }));

    const answer = await deliver(service.url, stale, { timestamp: now() - 3_600 });

    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('timestamp_out_of_tolerance');
    await expectNothingStored(stale.id);
  });
});

describe('an oversized body sent slowly', () => {
  test('when the declared length is over the limit, then the answer is 413 and the connection is closed without reading the rest', async () => {
    const socket = net.connect(Number(new URL(service.url).port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let received = '';
    socket.on('data', (chunk) => (received += chunk));
    let timer: NodeJS.Timeout | undefined;
    const closed = new Promise<boolean>((resolve) => {
      socket.once('close', () => resolve(true));
      timer = setTimeout(() => resolve(false), 5_000);
    }).finally(() => clearTimeout(timer));

    const header = signatureHeader('{}');
    socket.write(`POST /webhooks/stripe HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nStripe-Signature: ${header}\r\nContent-Length: 104857600\r\n\r\n`);
    socket.write('x'.repeat(8_192));

    expect(await closed).toBe(true);
    expect(received).toMatch(/^HTTP\/1\.1 413/);
    socket.destroy();
  });
});
