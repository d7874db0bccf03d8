import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { DunningStage, DunningUpdate, type DunningStatus } from '../workflows/contracts';
import { paidInvoice } from './support/billing-events';
import { admin, deliverTwiceAndWait, startTestService, type TestService } from './support/service';
import { stripeEvent } from './support/stripe-events';
import { until } from './support/until';

/** An operator's controls on a running dunning: pause, resume, stop with a reason, skip to the final action. */

jest.setTimeout(90_000);

let service: TestService;

beforeAll(async () => {
  service = await startTestService({ overrides: { DUNNING_SCHEDULE: '0s,4s,8s', DUNNING_FINAL_GRACE: '1s', FINANCE_EMAIL: 'finance@example.com' } });
});

afterAll(async () => {
  await service?.stop();
});

const handleOf = (invoiceId: string) => service.temporal.workflow.getHandle(`dunning-${invoiceId}`);
const noticesTo = (email: string) => service.smtp.to(email).filter((mail) => mail.subject?.startsWith('Payment failed'));
const stageOf = async (invoiceId: string) => (await handleOf(invoiceId).describe()).typedSearchAttributes.get(DunningStage);

/** A failed payment whose first notice went out. */
async function dunningAfterFirstNotice(email: string) {
  const invoice = paidInvoice({ status: 'open', subtotal: 5_000, customerEmail: email });
  await deliverTwiceAndWait(service, stripeEvent('invoice.payment_failed', invoice));
  await until(async () => noticesTo(email).length === 1, 10_000);
  return invoice;
}

test('when an operator pauses a dunning, then no notice goes out while it is paused, and after resume the schedule continues shifted by the pause', async () => {
  const invoice = await dunningAfterFirstNotice('paused@example.com');
  const handle = handleOf(invoice.id);

  const paused = await handle.executeUpdate<DunningStatus, [{ reason: string }]>(DunningUpdate.pause, { args: [{ reason: 'customer called, paying by wire' }] });
  expect(paused).toMatchObject({ stage: 'paused', nextStepAt: null, paused: { reason: 'customer called, paying by wire' } });
  await until(async () => (await stageOf(invoice.id)) === 'paused');
  expect(await stageOf(invoice.id)).toBe('paused');
  await new Promise((resolve) => setTimeout(resolve, 6_000));
  expect(noticesTo('paused@example.com')).toHaveLength(1);

  const resumed = await handle.executeUpdate<DunningStatus, []>(DunningUpdate.resume);

  expect(resumed.paused).toBeNull();
  expect(resumed.stage).not.toBe('paused');
  expect(Date.parse(resumed.nextStepAt!)).toBeGreaterThan(Date.now());
  expect(await handle.result()).toBe('exhausted');
  expect(noticesTo('paused@example.com').map((mail) => mail.subject)).toEqual([
    'Payment failed: $50.00 is due (reminder 1 of 3)',
    'Payment failed: $50.00 is due (reminder 2 of 3)',
    'Payment failed: $50.00 is due (reminder 3 of 3)',
  ]);
});

test('when an operator stops a dunning with a reason, then no further notice and no final action, and the case says why', async () => {
  const invoice = await dunningAfterFirstNotice('stopped@example.com');
  const handle = handleOf(invoice.id);

  const stopped = await handle.executeUpdate<DunningStatus, [{ reason: string }]>(DunningUpdate.stop, { args: [{ reason: 'invoice disputed with sales' }] });

  expect(stopped.stopReason).toBe('invoice disputed with sales');
  expect(await handle.result()).toBe('stopped');
  expect(await stageOf(invoice.id)).toBe('stopped');
  expect(noticesTo('stopped@example.com')).toHaveLength(1);
  expect(service.smtp.to('finance@example.com').filter((mail) => mail.subject?.includes(invoice.id))).toHaveLength(0);
  const { body } = await admin(service, `/customers/${invoice.customer}`);
  expect(body.dunning_cases).toContainEqual(expect.objectContaining({ invoice_id: invoice.id, status: 'stopped', ended_reason: 'invoice disputed with sales' }));
});

test('when an operator skips to the final action, then the remaining notices are skipped and the dunning ends exhausted with finance told', async () => {
  const invoice = await dunningAfterFirstNotice('skipped@example.com');

  await handleOf(invoice.id).executeUpdate(DunningUpdate.skipToFinalAction);

  expect(await handleOf(invoice.id).result()).toBe('exhausted');
  expect(noticesTo('skipped@example.com')).toHaveLength(1);
  expect(service.smtp.to('finance@example.com').filter((mail) => mail.subject?.includes(invoice.id))).toHaveLength(1);
});

test.each([
  ['resume a dunning that is not paused', DunningUpdate.resume, [], 'is not paused'],
  ['stop without a reason', DunningUpdate.stop, [{}], 'reason must be a text of 1 to 500 characters'],
  ['pause with an empty reason', DunningUpdate.pause, [{ reason: ' ' }], 'reason must be a text of 1 to 500 characters, or left out'],
])('when an operator tries to %s, then the update is refused with why and the dunning runs on', async (_name, update, args, message) => {
  const invoice = await dunningAfterFirstNotice(`refused-${update}@example.com`);

  const refused = await handleOf(invoice.id).executeUpdate(update, { args: args as [unknown] }).catch((err: unknown) => err);

  expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
  expect(String((refused as WorkflowUpdateFailedError).cause?.message)).toContain(message);
  expect((await handleOf(invoice.id).query<DunningStatus>('status')).outcome).toBeNull();
  await handleOf(invoice.id).executeUpdate(DunningUpdate.stop, { args: [{ reason: 'test over' }] });
});

test('when an operator pauses and stops a dunning with the temporal CLI as the runbook says, then it ends stopped', async () => {
  const invoice = await dunningAfterFirstNotice('cli@example.com');
  const cli = (...args: string[]) =>
    promisify(execFile)(path.join(__dirname, '..', '.tools', 'bin', 'temporal'), [...args, '--address', service.config.TEMPORAL_ADDRESS!, '--namespace', service.config.TEMPORAL_NAMESPACE]);

  await cli('workflow', 'update', 'execute', '--workflow-id', `dunning-${invoice.id}`, '--name', 'pause', '--input', '{"reason":"checking with finance"}');
  const { stdout } = await cli('workflow', 'query', '--workflow-id', `dunning-${invoice.id}`, '--name', 'status');
  expect(stdout).toContain('checking with finance');
  await cli('workflow', 'update', 'execute', '--workflow-id', `dunning-${invoice.id}`, '--name', 'stop', '--input', '{"reason":"written off by hand"}');

  expect(await handleOf(invoice.id).result()).toBe('stopped');
});
