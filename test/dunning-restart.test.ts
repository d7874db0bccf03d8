import { createLogger } from '../src/platform/log';
import { startWorker, type RunningWorker } from '../src/main/processes';
import { paidInvoice } from './support/billing-events';
import { startTestService, workflowBundle, type TestService } from './support/service';
import { deliver, stripeEvent } from './support/stripe-events';

jest.setTimeout(90_000);

let service: TestService;
let worker: RunningWorker | undefined;

beforeAll(async () => {
  service = await startTestService({ worker: false, overrides: { DUNNING_SCHEDULE: '0s,4s,8s', DUNNING_FINAL_GRACE: '1s' } });
});

afterAll(async () => {
  await worker?.stop();
  await service?.stop();
});

const startOwnWorker = async () => startWorker(service.config, createLogger('silent'), { workflowBundle: await workflowBundle() });

async function waitFor(condition: () => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('when the worker stops in the middle of a timer and starts again, then the schedule continues without repeating or skipping a step', async () => {
  const invoice = paidInvoice({ status: 'open', subtotal: 5_000, customerEmail: 'alan@example.com' });
  const notices = () => service.smtp.to('alan@example.com').map((m) => m.subject);
  worker = await startOwnWorker();
  const failed = stripeEvent('invoice.payment_failed', invoice);
  await Promise.all([deliver(service.url, failed), deliver(service.url, failed)]);
  await waitFor(() => notices().length === 1, 15_000);

  await worker.stop();
  // Step 2 falls due while no worker runs.
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  const sentWhileStopped = notices().length;
  worker = await startOwnWorker();
  const outcome = await service.temporal.workflow.getHandle(`dunning-${invoice.id}`).result();

  expect(sentWhileStopped).toBe(1);
  expect(outcome).toBe('exhausted');
  expect(notices()).toEqual([
    'Payment failed: $50.00 is due (reminder 1 of 3)',
    'Payment failed: $50.00 is due (reminder 2 of 3)',
    'Payment failed: $50.00 is due (reminder 3 of 3)',
  ]);
});
