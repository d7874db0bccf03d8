import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { chargeWithRefunds, paidInvoice } from './support/billing-events';
import { deliverTwiceAndWait, historyOf, isPatchMarker, startTestService, type TestService } from './support/service';
import { stripeEvent } from './support/stripe-events';
import { until } from './support/until';

/** Every step of an execution carries a summary, so its history in the Web UI reads as the business process. */

let service: TestService;

beforeAll(async () => {
  service = await startTestService();
});

afterAll(async () => {
  await service?.stop();
});

/** The summaries of the steps in an execution's history, in order: local activities (markers) and activities. */
async function stepSummariesOf(workflowId: string): Promise<string[]> {
  const isStep = (event: temporal.api.history.v1.IHistoryEvent) =>
    (event.markerRecordedEventAttributes && !isPatchMarker(event)) || event.activityTaskScheduledEventAttributes;
  const steps = (await historyOf(service, workflowId)).filter(isStep);
  return steps.map((event) => {
    const summary = event.userMetadata?.summary;
    return summary ? defaultPayloadConverter.fromPayload<string>(summary as never) : '(no summary)';
  });
}

test('when a paid invoice is processed, then its one step in the history says, in order, what it did to which invoice and customer', async () => {
  const invoice = paidInvoice({ subtotal: 4_900, customerEmail: 'summary@example.com' });
  const event = stripeEvent('invoice.paid', invoice);

  await deliverTwiceAndWait(service, event);

  const objects = `invoice ${invoice.id} · subscription sub_test_1 · customer ${invoice.customer}`;
  expect(await stepSummariesOf(event.id)).toEqual([
    `Mark the event processing; record the payment, documents, ledger and paid period; email the receipt and invoice to the customer and finance; mark the event processed · ${objects}`,
  ]);
});

test('when an event runs several database steps as one, then its one summary names each step in order', async () => {
  const charge = { ...chargeWithRefunds('ch_summary_refunded', 6_000, [{ id: 're_summary', amount: 1_000 }]), customer: 'cus_summary' };
  const event = stripeEvent('charge.refunded', charge);

  await deliverTwiceAndWait(service, event);

  expect(await stepSummariesOf(event.id)).toEqual([
    `Mark the event processing; store the charge; post the refunds of the charge; book Stripe's fee and currency conversion; mark the event processed · customer cus_summary`,
  ]);
});

test('when a dunning sends its notices, then each notice step names its place in the schedule and the invoice', async () => {
  const invoice = paidInvoice({ status: 'open', subtotal: 2_000, customerEmail: 'summary-dunning@example.com' });

  const dunningId = `dunning-${invoice.id}`;
  await deliverTwiceAndWait(service, stripeEvent('invoice.payment_failed', invoice));
  // The event's run ends once the dunning has started, which may be before its first step.
  await until(async () => (await stepSummariesOf(dunningId)).length > 0);
  await service.temporal.workflow.getHandle(dunningId).terminate('test over');

  const summaries = await stepSummariesOf(dunningId);
  expect(summaries[0]).toMatch(new RegExp(`^Send dunning notice 1 of 4 · invoice ${invoice.id}`));
});
