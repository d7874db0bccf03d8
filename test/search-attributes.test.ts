import { randomBytes } from 'node:crypto';
import { TypedSearchAttributes } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time';
import { ensureSearchAttributes } from '../src/platform/temporal-client';
import {
  allSearchAttributes,
  DunningStage,
  StripeCustomerId,
  StripeEventType,
  StripeInvoiceId,
  StripeSubscriptionId,
} from '../workflows/contracts';
import { disputeWithFunds, paidInvoice, refund } from './support/billing-events';
import { admin, deliverTwiceAndWait, startTestService, type TestService } from './support/service';
import { until } from './support/until';
import { stripeEvent } from './support/stripe-events';

let service: TestService;

beforeAll(async () => {
  service = await startTestService();
});

afterAll(async () => {
  await service?.stop();
});

test('when a namespace lacks the search attributes, then start-up registers them, and a second start-up changes nothing', async () => {
  const namespace = `sa-${randomBytes(4).toString('hex')}`;
  const { workflowService, operatorService } = service.temporal.connection;
  await workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });

  await retryUntilTheNamespaceIsKnown(() => ensureSearchAttributes(service.temporal, namespace));
  await ensureSearchAttributes(service.temporal, namespace);

  const { customAttributes } = await operatorService.listSearchAttributes({ namespace });
  for (const key of allSearchAttributes) expect(customAttributes?.[key.name]).toBe(2 /* KEYWORD */);
});

test('when a payment fails, then its event and its dunning are found in the Web UI by customer and by invoice', async () => {
  const invoice: Record<string, any> = { ...paidInvoice({ status: 'open', customerEmail: 'findme@example.com' }), customer: `cus_find_${randomBytes(3).toString('hex')}` };
  const event = stripeEvent('invoice.payment_failed', invoice);

  await deliverTwiceAndWait(service, event);

  const eventAttributes = (await service.temporal.workflow.getHandle(event.id).describe()).typedSearchAttributes;
  expect(pick(eventAttributes)).toEqual({
    StripeEventType: 'invoice.payment_failed',
    StripeCustomerId: invoice.customer,
    StripeInvoiceId: invoice.id,
    StripeSubscriptionId: expect.stringMatching(/^sub_/),
  });
  // The dunning's first workflow task sets DunningStage; it may not have run yet when the event is done.
  const dunningRun = service.temporal.workflow.getHandle(`dunning-${invoice.id}`);
  await until(async () => (await dunningRun.describe()).typedSearchAttributes.get(DunningStage) !== undefined, 10_000);
  const dunningAttributes = (await dunningRun.describe()).typedSearchAttributes;
  expect(pick(dunningAttributes)).toMatchObject({ StripeCustomerId: invoice.customer, StripeInvoiceId: invoice.id });
  expect(await findIds(`StripeCustomerId = "${invoice.customer}"`)).toEqual([`dunning-${invoice.id}`, event.id].sort());
  expect(await findIds(`StripeInvoiceId = "${invoice.id}"`)).toEqual([`dunning-${invoice.id}`, event.id].sort());
  expect(dunningAttributes.get(DunningStage)).toEqual(expect.any(String));
});

test('when a paid invoice and a failed payment are processed, then each execution carries a summary an operator reads in the Web UI: type, object, customer and amount, and no email address', async () => {
  const customer = `cus_sum_${randomBytes(3).toString('hex')}`;
  const paid: Record<string, any> = { ...paidInvoice({ subtotal: 4_900, customerEmail: 'summary@example.com' }), customer };
  const unpaid: Record<string, any> = { ...paidInvoice({ status: 'open', subtotal: 2_500, customerEmail: 'summary@example.com' }), customer, amount_paid: 0, amount_due: 2_500, amount_remaining: 2_500 };
  const paidEvent = stripeEvent('invoice.paid', paid);
  const failedEvent = stripeEvent('invoice.payment_failed', unpaid);

  await Promise.all([deliverTwiceAndWait(service, paidEvent), deliverTwiceAndWait(service, failedEvent)]);

  const paidRun = service.temporal.workflow.getHandle(paidEvent.id);
  expect(await (await paidRun.describe()).staticSummary()).toBe(`invoice.paid · ${paid.id} · ${customer} · ${paid.parent?.subscription_details?.subscription ?? paid.subscription} · $49.00 USD`);
  const details = await (await paidRun.describe()).staticDetails();
  expect(details).toContain(`**Stripe event:** ${paidEvent.id} (invoice.paid)`);
  expect(details).toContain('**Amount:** $49.00 USD');
  const dunning = await service.temporal.workflow.getHandle(`dunning-${unpaid.id}`).describe();
  expect(await dunning.staticSummary()).toBe(`dunning · ${unpaid.id} · ${customer} · $25.00 USD`);
  expect(await dunning.staticDetails()).toMatch(/\*\*Schedule:\*\* notices at \S+/);
  for (const text of [await (await paidRun.describe()).staticSummary(), details, await dunning.staticDetails()]) expect(text).not.toContain('@');
});

test.each([
  ['a dispute', 'charge.dispute.created', (chargeId: string) => ({ ...disputeWithFunds(`dp_${chargeId}`, 3_000, 'needs_response', [-3_000]), charge: chargeId })],
  ['a refund\'s update', 'charge.refund.updated', (chargeId: string) => refund(`re_${chargeId}`, chargeId, 3_000, 'failed')],
] as const)('when %s names only the charge that paid an invoice, then its execution and its event are found by that customer and invoice', async (_kind, type, objectOf) => {
  const chargeId = `ch_owned_${randomBytes(3).toString('hex')}`;
  const customer = `cus_owner_${randomBytes(3).toString('hex')}`;
  const invoice: Record<string, any> = { ...paidInvoice({ chargeId, subtotal: 3_000 }), customer };
  await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice));
  const event = stripeEvent(type, objectOf(chargeId));

  await deliverTwiceAndWait(service, event);

  const attributes = (await service.temporal.workflow.getHandle(event.id).describe()).typedSearchAttributes;
  expect(pick(attributes)).toMatchObject({ StripeEventType: type, StripeCustomerId: customer, StripeInvoiceId: invoice.id });
  const { body } = await admin(service, `/events?customer=${customer}`);
  expect(body.data.map((row: { id: string }) => row.id)).toContain(event.id);
});

test('when a dispute names the charge of a part of an invoice paid in parts whose list names payment intents only, then its execution is found by that invoice, through its payment intent', async () => {
  const run = randomBytes(3).toString('hex');
  const customer = `cus_parts_${run}`;
  const paid: Record<string, any> = paidInvoice({ subtotal: 3_000 });
  // As Stripe lists a part paid by a payment intent: the intent, no charge.
  const part = (n: number) => ({ ...paid.payments.data[0], id: `inpay_${run}_${n}`, status: 'paid', payment: { type: 'payment_intent', payment_intent: `pi_parts_${run}_${n}` } });
  const invoice: Record<string, any> = { ...paid, customer, payments: { ...paid.payments, data: [part(1), part(2)] } };
  await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice));
  const dispute = { ...disputeWithFunds(`dp_parts_${run}`, 1_000, 'needs_response', [-1_000]), charge: `ch_parts_${run}_2`, payment_intent: `pi_parts_${run}_2` };
  const event = stripeEvent('charge.dispute.created', dispute);

  await deliverTwiceAndWait(service, event);

  const attributes = (await service.temporal.workflow.getHandle(event.id).describe()).typedSearchAttributes;
  expect(pick(attributes)).toMatchObject({ StripeEventType: 'charge.dispute.created', StripeCustomerId: customer, StripeInvoiceId: invoice.id });
});

test('when a dispute names a charge nothing is stored about, then it is accepted and processed without a customer', async () => {
  const event = stripeEvent('charge.dispute.created', { ...disputeWithFunds('dp_unknown_charge', 1_000, 'warning_needs_response', []), charge: 'ch_never_seen' });

  await deliverTwiceAndWait(service, event);

  const attributes = (await service.temporal.workflow.getHandle(event.id).describe()).typedSearchAttributes;
  expect(pick(attributes)).toEqual({ StripeEventType: 'charge.dispute.created' });
});

function pick(attributes: TypedSearchAttributes) {
  return Object.fromEntries(
    [StripeEventType, StripeCustomerId, StripeInvoiceId, StripeSubscriptionId]
      .map((key) => [key.name, attributes.get(key)])
      .filter(([, value]) => value !== undefined),
  );
}

/** Visibility is eventually consistent: wait for it to show what it will show. */
async function findIds(query: string): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ids: string[] = [];
    for await (const execution of service.temporal.workflow.list({ query })) ids.push(execution.workflowId);
    if (ids.length >= 2 || Date.now() > deadline) return ids.sort();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function retryUntilTheNamespaceIsKnown(fn: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline || !/namespace/i.test((err as Error).message)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
