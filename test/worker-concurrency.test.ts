import { createMailer } from '../src/platform/mailer';
import { deliverTwiceAndWait, startTestService, type TestService } from './support/service';
import { stripeEvent, stripeObject } from './support/stripe-events';

/** Emails in flight at once, the most seen, and how long each is held at the mail server. */
const sending = { now: 0, most: 0 };
const holdMs = 300;

let service: TestService;

beforeAll(async () => {
  service = await startTestService({
    overrides: { WORKER_MAX_CONCURRENT_TASKS: '2' },
    mailer: (smtpUrl) => {
      const real = createMailer(smtpUrl);
      return {
        async sendMail(message) {
          sending.now += 1;
          sending.most = Math.max(sending.most, sending.now);
          try {
            await new Promise((resolve) => setTimeout(resolve, holdMs));
            return await real.sendMail(message);
          } finally {
            sending.now -= 1;
          }
        },
      };
    },
  });
  await deliverTwiceAndWait(service, stripeEvent('customer.created', stripeObject('customer', { id: 'cus_limit', email: 'limit@example.com' })));
});

afterAll(async () => {
  await service?.stop();
});

test('when more events arrive at once than WORKER_MAX_CONCURRENT_TASKS, then the worker runs that many at a time and every email still goes out once', async () => {
  // Arrange: six trial reminders, each one email the mail server holds for a while.
  const events = Array.from({ length: 6 }, (_, i) =>
    stripeEvent(
      'customer.subscription.trial_will_end',
      stripeObject('subscription', { id: `sub_limit_${i}`, customer: 'cus_limit', status: 'trialing', trial_end: 1_800_000_000 }),
    ),
  );

  // Act: all of them at once, each delivered twice.
  await Promise.all(events.map((event) => deliverTwiceAndWait(service, event)));

  // Assert: never more than two at a time (without the limit, all six are), and six reminders,
  // none doubled.
  expect(sending.most).toBeLessThanOrEqual(2);
  expect(service.smtp.to('limit@example.com')).toHaveLength(6);
});
