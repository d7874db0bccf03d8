import { paidInvoice } from './support/billing-events';
import { startStallingProxy, type StallingProxy } from './support/stalling-proxy';
import { eventStatusWhenDone, historyOf, localActivitiesOf, startTestService, type TestService } from './support/service';
import { startTestSmtp, type TestSmtp } from './support/smtp';
import { deliver, stripeEvent, stripeObject } from './support/stripe-events';

/**
 * A mail server that accepts connections and never greets must stall nothing but the emails:
 * no transaction is held open meanwhile, unrelated events are processed, and once the server
 * answers again every email goes out exactly once.
 */

let smtp: TestSmtp;
let proxy: StallingProxy;
let service: TestService;

beforeAll(async () => {
  smtp = await startTestSmtp();
  proxy = await startStallingProxy({ host: '127.0.0.1', port: Number(new URL(smtp.url).port) });
  proxy.stall();
  service = await startTestService({ overrides: { SMTP_URL: `smtp://127.0.0.1:${proxy.port}`, SMTP_TIMEOUT_MS: '1000' } });
});

afterAll(async () => {
  await service?.stop();
  await proxy?.stop();
  await smtp?.stop();
});

test('when the mail server never greets, then other events are processed, no transaction waits on it, and the emails go out once when it answers', async () => {
  const paid = stripeEvent('invoice.paid', paidInvoice({ subtotal: 1_500, customerEmail: 'stalled@example.com' }));
  await Promise.all([deliver(service.url, paid), deliver(service.url, paid)]);
  await new Promise((resolve) => setTimeout(resolve, 2_500));

  const unrelated = stripeEvent('customer.created', stripeObject('customer'));
  await deliver(service.url, unrelated);
  expect(await eventStatusWhenDone(service, unrelated.id)).toBe('processed');
  const { rows } = await service.database.db.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
  );
  expect(rows[0].n).toBe(0);
  expect(smtp.messages).toHaveLength(0);

  proxy.resume();

  expect(await eventStatusWhenDone(service, paid.id)).toBe('processed');
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(smtp.to('stalled@example.com')).toHaveLength(1);
  expect(smtp.messages).toHaveLength(2);
  // The first attempt of all the steps, inside the workflow task, gave up when the greeting did
  // not come; then the database steps again (finding them done), the email's retries as a
  // regular activity, which sent the emails, and the event marked processed.
  const activities = (await historyOf(service, paid.id)).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
  expect(activities).toEqual(['emailPaymentDocuments']);
  expect(await localActivitiesOf(service, paid.id)).toEqual(['runEventSteps', 'runEventSteps', 'runEventSteps']);
});
