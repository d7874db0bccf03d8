import { paidInvoice } from './support/billing-events';
import { admin, deliverTwiceAndWait, eventStatusWhenDone, startTestService, type TestService } from './support/service';
import { deliver, stripeEvent, stripeObject } from './support/stripe-events';
import type { StripeEvent } from '../src/platform/stripe-event';

const temporalUi = 'http://temporal-ui.test:8233';

let service: TestService;
let paid: StripeEvent;
let customer: StripeEvent;
let broken: StripeEvent;

beforeAll(async () => {
  service = await startTestService({ overrides: { TEMPORAL_UI_URL: temporalUi, ADMIN_AUTH_FAILURE_LIMIT: '100' } });
  paid = stripeEvent('invoice.paid', { ...paidInvoice(), customer: 'cus_admin_paid' });
  customer = stripeEvent('customer.created', stripeObject('customer', { id: 'cus_admin_created' }));
  // A customer event that carries an invoice: InvalidEvent, non-retryable, so it ends `failed`.
  broken = stripeEvent('customer.updated', { object: 'invoice', id: 'in_not_a_customer', customer: 'cus_admin_broken' });
  await deliverTwiceAndWait(service, paid);
  await deliverTwiceAndWait(service, customer);
  await Promise.all([deliver(service.url, broken), deliver(service.url, broken)]);
  expect(await eventStatusWhenDone(service, broken.id)).toBe('failed');
});

afterAll(async () => {
  await service?.stop();
});

describe('authorization', () => {
  const routes: [string, string][] = [
    ['GET', '/events'],
    ['GET', '/events/evt_123'],
    ['POST', '/events/evt_123/retry'],
    ['GET', '/stats'],
    ['POST', '/cleanup'],
    ['POST', '/reconcile'],
  ];

  test.each(routes)('when %s %s comes with a wrong key, then 401', async (method, path) => {
    const answer = await admin(service, path, { method, authorization: 'Bearer wrong-key-wrong-key' });

    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('unauthorized');
  });

  test.each(routes)('when %s %s comes without a key, then 401', async (method, path) => {
    const answer = await admin(service, path, { method, authorization: null });

    expect(answer.status).toBe(401);
  });

  test('when no admin key is configured, then every admin route answers 404', async () => {
    const keyless = await startTestService({ worker: false, overrides: { ADMIN_API_KEY: '', ADMIN_READ_API_KEY: '' } });
    try {
      for (const [method, path] of routes) {
        expect((await admin(keyless, path, { method })).status).toBe(404);
      }
    } finally {
      await keyless.stop();
    }
  });
});

describe('GET /admin/events', () => {
  test('when listing, then newest first with status, attempts and a Web UI link', async () => {
    const answer = await admin(service, '/events');

    expect(answer.status).toBe(200);
    expect(answer.body.data.map((e: { id: string }) => e.id)).toEqual([broken.id, customer.id, paid.id]);
    expect(answer.body.data[2]).toMatchObject({
      id: paid.id,
      type: 'invoice.paid',
      status: 'processed',
      attempts: 1,
      last_error: null,
      workflow_id: paid.id,
      temporal_ui_url: `${temporalUi}/namespaces/default/workflows/${paid.id}/${answer.body.data[2].run_id}/history`,
    });
    expect(answer.body.next_cursor).toBeNull();
  });

  test('when filtering by status, type or customer, then only matching events', async () => {
    const ids = async (query: string) => (await admin(service, `/events?${query}`)).body.data.map((e: { id: string }) => e.id);

    expect(await ids('status=failed')).toEqual([broken.id]);
    expect(await ids('type=customer.created')).toEqual([customer.id]);
    expect(await ids('customer=cus_admin_created')).toEqual([customer.id]);
    expect(await ids('status=processed&type=customer.updated')).toEqual([]);
  });

  test('when paging with limit and cursor, then every event once and a null cursor at the end', async () => {
    const first = await admin(service, '/events?limit=2');
    const second = await admin(service, `/events?limit=2&cursor=${first.body.next_cursor}`);

    expect(first.body.data).toHaveLength(2);
    expect(second.body.data.map((e: { id: string }) => e.id)).toEqual([paid.id]);
    expect(second.body.next_cursor).toBeNull();
  });

  test.each([
    ['status=done', 'status'],
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['cursor=abc', 'cursor'],
    ['type=', 'type'],
    ['customer=a&customer=b', 'customer'],
  ])('when the query is %s, then 400 naming %s', async (query, parameter) => {
    const answer = await admin(service, `/events?${query}`);

    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_parameter');
    expect(answer.body.error.message).toMatch(new RegExp(`^${parameter}\\b`));
  });

  test.each([
    ['type=', 'type must not be empty.'],
    ['customer=a&customer=b', 'customer must be given once.'],
  ])('when the query is %s, then the message says what is wrong with it', async (query, message) => {
    const answer = await admin(service, `/events?${query}`);

    expect(answer.status).toBe(400);
    expect(answer.body.error).toEqual({ code: 'invalid_parameter', message });
  });
});

describe('parameters a route does not take', () => {
  test.each([
    ['GET', '/ledger/balance?currency=usd', 'currency', 'GET /admin/ledger/balance, which takes only account.'],
    ['GET', '/payments?from=2026-11-01', 'from', 'GET /admin/payments, which takes only invoice, customer, limit, cursor.'],
    ['GET', '/events?state=failed', 'state', 'GET /admin/events, which takes only status, type, customer, limit, cursor.'],
    ['GET', '/reports/close?month=2026-11&format=csv', 'format', 'GET /admin/reports/close, which takes only month, account.'],
    ['GET', '/customers/cus_x?expand=all', 'expand', 'GET /admin/customers/cus_x, which takes none.'],
    ['POST', '/events/evt_x/retry?force=true', 'force', 'POST /admin/events/evt_x/retry, which takes none.'],
  ])('when %s %s, then 400 naming the parameter and those the route takes, not an unfiltered answer', async (method, path, parameter, takes) => {
    const answer = await admin(service, path, { method });

    expect(answer.status).toBe(400);
    expect(answer.body.error).toEqual({ code: 'invalid_parameter', message: `${parameter} is not a parameter of ${takes}` });
  });
});

describe('ids and filters with a NUL character', () => {
  test.each([
    ['GET', '/events/evt_%00'],
    ['GET', '/events?type=a%00b'],
    ['GET', '/payments?invoice=in_%00'],
    ['GET', '/customers/cus_%00'],
    ['GET', '/documents/R-%00'],
    ['POST', '/events/evt_%00/retry'],
  ])('when %s %s, then 400 invalid_parameter, not a failed query', async (method, path) => {
    const answer = await admin(service, path, { method });

    expect(answer.status).toBe(400);
    expect(answer.body.error).toEqual({ code: 'invalid_parameter', message: 'Parameters must not contain the NUL character (%00).' });
  });
});

describe('GET /admin/events/:id', () => {
  test('when a paid invoice event is shown, then its payment, documents, ledger entries and emails', async () => {
    const answer = await admin(service, `/events/${paid.id}`);

    expect(answer.status).toBe(200);
    const { effects } = answer.body;
    expect(effects.payments).toEqual([
      expect.objectContaining({ invoice_id: paid.data.object.id, currency: 'usd', documents: [expect.stringMatching(/^R-/), expect.stringMatching(/^INV-/)] }),
    ]);
    expect(effects.ledger_entries.map((e: { kind: string }) => e.kind).sort()).toEqual(['invoice_recognized', 'payment_settled']);
    for (const entry of effects.ledger_entries) {
      const debit = entry.lines.reduce((sum: number, l: { debit: number }) => sum + Number(l.debit), 0);
      const credit = entry.lines.reduce((sum: number, l: { credit: number }) => sum + Number(l.credit), 0);
      expect(debit).toBe(credit);
    }
    expect(effects.emails.map((e: { key: string; status: string }) => [e.key.split(':').pop(), e.status]).sort()).toEqual([
      ['customer', 'sent'],
      ['finance', 'sent'],
    ]);
  });

  test('when a failed event is shown, then its last error names the cause', async () => {
    const answer = await admin(service, `/events/${broken.id}`);

    expect(answer.body).toMatchObject({ status: 'failed', attempts: 1 });
    expect(answer.body.last_error).toContain('data.object is not a customer');
  });

  test('when the event is unknown, then 404', async () => {
    expect((await admin(service, '/events/evt_nothing_here')).status).toBe(404);
  });
});

describe('GET /admin/stats', () => {
  test('when asked for 24h, then counts by type and status, the failure rate and processing times', async () => {
    const answer = await admin(service, '/stats?window=24h');

    expect(answer.status).toBe(200);
    expect(answer.body.total).toBe(3);
    expect(answer.body.by_type).toEqual(
      expect.arrayContaining([
        { type: 'invoice.paid', status: 'processed', count: 1 },
        { type: 'customer.updated', status: 'failed', count: 1 },
      ]),
    );
    expect(answer.body.failure_rate).toBeCloseTo(1 / 3);
    expect(answer.body.processing_ms.p50).toBeGreaterThan(0);
    expect(answer.body.processing_ms.p95).toBeGreaterThanOrEqual(answer.body.processing_ms.p50);
  });

  test.each(['24', '0h', '91d', 'yesterday'])('when the window is %s, then 400 naming window', async (window) => {
    const answer = await admin(service, `/stats?window=${window}`);

    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(/^window\b/);
  });
});

describe('POST /admin/cleanup', () => {
  test('when payloads are older than the given days, then finished events lose them and every effect stays', async () => {
    const db = service.database.db;
    const before = await effectCounts();
    await db.query(`UPDATE stripe_events SET received_at = now() - interval '40 days'`);

    const answer = await admin(service, '/cleanup', { body: { olderThanDays: 30 } });

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ older_than_days: 30, payloads_dropped: 2 });
    const { rows } = await db.query('SELECT id, payload IS NOT NULL AS kept FROM stripe_events ORDER BY id');
    expect(Object.fromEntries(rows.map((r) => [r.id, r.kept]))).toEqual({
      [paid.id]: false,
      [customer.id]: false,
      // A failed event keeps its payload: a retry needs it.
      [broken.id]: true,
    });
    expect(await effectCounts()).toEqual(before);
  });

  test.each([
    [{}, 'olderThanDays'],
    [{ olderThanDays: 0 }, 'olderThanDays'],
    [{ olderThanDays: 1.5 }, 'olderThanDays'],
    [{ olderThanDays: '30' }, 'olderThanDays'],
    [{ olderThanDays: 30, everything: true }, 'everything'],
    ['not json', 'JSON'],
  ])('when the body is %j, then 400 naming %s and nothing dropped', async (body, named) => {
    const answer = await admin(service, '/cleanup', { body });

    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toContain(named);
  });
});

async function effectCounts(): Promise<Record<string, number>> {
  const { rows } = await service.database.db.query(
    `SELECT (SELECT count(*) FROM payments)::int AS payments, (SELECT count(*) FROM documents)::int AS documents,
            (SELECT count(*) FROM ledger_lines)::int AS ledger_lines, (SELECT count(*) FROM email_outbox)::int AS emails,
            (SELECT count(*) FROM customers)::int AS customers`,
  );
  return rows[0];
}
