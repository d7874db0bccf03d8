import type { RunningWorker } from '../src/main/processes';
import { createMailer } from '../src/platform/mailer';
import { restartWorkerWithRightFinance, rightFinance, startServiceRefusingFinance, wrongFinance } from './support/refused-finance';
import { paidInvoice } from './support/billing-events';
import { countRows } from './support/database';
import { admin, eventStatusWhenDone, startTestService, type TestService } from './support/service';
import { deliver, stripeEvent, stripeObject } from './support/stripe-events';

let service: TestService;
let fixedWorker: RunningWorker | undefined;

beforeAll(async () => {
  service = await startServiceRefusingFinance();
});

afterAll(async () => {
  await fixedWorker?.stop();
  await service?.stop();
});

const count = (sql: string, params: unknown[]) => countRows(service.database.db, sql, params);

test('when the mail server refuses the finance address, then the event fails with a clear error, and a retry after the fix ends processed with every effect once', async () => {
  // Arrange: the event fails once, by configuration.
  const invoice = paidInvoice({ subtotal: 5_000, customerEmail: 'retry@example.com' });
  const event = stripeEvent('invoice.paid', invoice);
  await Promise.all([deliver(service.url, event), deliver(service.url, event)]);
  expect(await eventStatusWhenDone(service, event.id)).toBe('failed');
  const failed = await admin(service, `/events/${event.id}`);
  expect(failed.body).toMatchObject({ status: 'failed', attempts: 1 });
  expect(failed.body.last_error).toMatch(/refused email payment:\d+:documents:finance permanently \(SMTP 550\)/);
  expect(failed.body.last_error).not.toContain(wrongFinance);
  expect(service.smtp.to(invoice.customer_email)).toHaveLength(1);

  fixedWorker = await restartWorkerWithRightFinance(service);

  // Act: two operators press retry at once.
  const answers = await Promise.all([
    admin(service, `/events/${event.id}/retry`, { method: 'POST' }),
    admin(service, `/events/${event.id}/retry`, { method: 'POST' }),
  ]);

  // Assert: one new run, processed, and nothing done twice.
  expect(answers.map((a) => a.status).sort()).toEqual([202, 409]);
  const retried = answers.find((a) => a.status === 202)!.body;
  expect(retried.run_id).not.toBe(failed.body.run_id);
  expect(await eventStatusWhenDone(service, event.id)).toBe('processed');
  const after = await admin(service, `/events/${event.id}`);
  expect(after.body).toMatchObject({ status: 'processed', attempts: 2, last_error: null });
  expect(await count('SELECT 1 FROM payments WHERE invoice_id = $1', [invoice.id])).toBe(1);
  expect(await count('SELECT 1 FROM documents d JOIN payments p ON p.id = d.payment_id WHERE p.invoice_id = $1', [invoice.id])).toBe(2);
  expect(service.smtp.to(invoice.customer_email)).toHaveLength(1);
  expect(service.smtp.to(rightFinance)).toHaveLength(1);
  expect(await count('SELECT 1 FROM ledger_entries WHERE event_id = $1', [event.id])).toBe(2);
  expect(after.body.effects.emails.map((e: { status: string }) => e.status)).toEqual(['sent', 'sent']);
});

test('when a processed event is retried, then 409 not_failed and no new run', async () => {
  const event = stripeEvent('customer.created', stripeObject('customer', { id: 'cus_retry_processed' }));
  await deliver(service.url, event);
  expect(await eventStatusWhenDone(service, event.id)).toBe('processed');

  const answer = await admin(service, `/events/${event.id}/retry`, { method: 'POST' });

  expect(answer.status).toBe(409);
  expect(answer.body.error.code).toBe('not_failed');
});

test('when an unknown event is retried, then 404', async () => {
  const answer = await admin(service, '/events/evt_unknown/retry', { method: 'POST' });

  expect(answer.status).toBe(404);
});

describe('a run that is stuck', () => {
  let stuck: TestService;
  let mailServerDown = true;

  beforeAll(async () => {
    stuck = await startTestService({
      mailer: (smtpUrl) => {
        const real = createMailer(smtpUrl);
        return {
          async sendMail(message) {
            if (mailServerDown) throw new Error('connect ECONNREFUSED (injected by the test)');
            return real.sendMail(message);
          },
        };
      },
    });
  });

  afterAll(() => stuck?.stop());

  test('when a run is open, then retry answers 409 running; once an operator terminated it, retry starts a new run that finishes the effects once', async () => {
    const invoice = paidInvoice({ customerEmail: 'stuck@example.com' });
    const event = stripeEvent('invoice.paid', invoice);
    await Promise.all([deliver(stuck.url, event), deliver(stuck.url, event)]);
    await waitForStatus(stuck, event.id, 'processing');

    const whileOpen = await admin(stuck, `/events/${event.id}/retry`, { method: 'POST' });
    await stuck.temporal.workflow.getHandle(event.id).terminate('operator: mail server is down');
    mailServerDown = false;
    const afterTerminate = await admin(stuck, `/events/${event.id}/retry`, { method: 'POST' });

    expect(whileOpen.status).toBe(409);
    expect(whileOpen.body.error.code).toBe('running');
    expect(afterTerminate.status).toBe(202);
    expect(await eventStatusWhenDone(stuck, event.id)).toBe('processed');
    expect(stuck.smtp.to('stuck@example.com')).toHaveLength(1);
    const { rows } = await stuck.database.db.query('SELECT count(*)::int AS n FROM payments WHERE invoice_id = $1', [invoice.id]);
    expect(rows[0].n).toBe(1);
  });
});

async function waitForStatus(target: TestService, eventId: string, status: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await target.database.db.query('SELECT status FROM stripe_events WHERE id = $1', [eventId]);
    if (rows[0]?.status === status) return;
    if (Date.now() > deadline) throw new Error(`event ${eventId} is ${rows[0]?.status}, not ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
