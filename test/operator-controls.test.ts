import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { RunningWorker } from '../src/main/processes';
import { paidInvoice } from './support/billing-events';
import { countRows } from './support/database';
import { restartWorkerWithRightFinance, rightFinance, startServiceRefusingFinance } from './support/refused-finance';
import { admin, eventStatusWhenDone, startTestService, type TestService } from './support/service';
import { deliver, stripeEvent } from './support/stripe-events';
import { until } from './support/until';

/**
 * What an operator does to an event's execution in the Temporal Web UI or CLI, and what it does
 * to the event and its effects: reset to the first workflow task, cancel.
 */

jest.setTimeout(90_000);

const temporalCli = (service: TestService, ...args: string[]) =>
  promisify(execFile)(path.join(__dirname, '..', '.tools', 'bin', 'temporal'), [...args, '--address', service.config.TEMPORAL_ADDRESS!, '--namespace', service.config.TEMPORAL_NAMESPACE]);

const count = (service: TestService, sql: string, params: unknown[]) => countRows(service.database.db, sql, params);

describe('reset', () => {
  let service: TestService;
  let fixedWorker: RunningWorker | undefined;

  beforeAll(async () => {
    service = await startServiceRefusingFinance();
  });

  afterAll(async () => {
    await fixedWorker?.stop();
    await service?.stop();
  });

  test('when a failed event run is reset to its first workflow task, then it ends processed with every effect once and the event row follows the new run', async () => {
    const invoice = paidInvoice({ subtotal: 7_000, customerEmail: 'reset@example.com' });
    const event = stripeEvent('invoice.paid', invoice);
    await Promise.all([deliver(service.url, event), deliver(service.url, event)]);
    expect(await eventStatusWhenDone(service, event.id)).toBe('failed');
    const failedRun = (await admin(service, `/events/${event.id}`)).body.run_id;
    fixedWorker = await restartWorkerWithRightFinance(service);

    await temporalCli(service, 'workflow', 'reset', '--workflow-id', event.id, '--type', 'FirstWorkflowTask', '--reason', 'finance address fixed', '--yes');

    await until(async () => (await admin(service, `/events/${event.id}`)).body.run_id !== failedRun, 10_000);
    expect(await eventStatusWhenDone(service, event.id)).toBe('processed');
    const after = await admin(service, `/events/${event.id}`);
    const current = await service.temporal.workflow.getHandle(event.id).describe();
    expect(after.body).toMatchObject({ status: 'processed', run_id: current.runId, last_error: null });
    expect(current.status.name).toBe('COMPLETED');
    expect(await count(service, 'SELECT 1 FROM payments WHERE invoice_id = $1', [invoice.id])).toBe(1);
    expect(await count(service, 'SELECT 1 FROM documents d JOIN payments p ON p.id = d.payment_id WHERE p.invoice_id = $1', [invoice.id])).toBe(2);
    expect(await count(service, 'SELECT 1 FROM ledger_entries WHERE event_id = $1', [event.id])).toBe(2);
    expect(service.smtp.to('reset@example.com')).toHaveLength(1);
    expect(service.smtp.to(rightFinance)).toHaveLength(1);
  });
});

describe('cancel', () => {
  let service: TestService;

  beforeAll(async () => {
    // A mail server that is not there: the documents' email retries until someone intervenes.
    service = await startTestService({ overrides: { SMTP_URL: 'smtp://127.0.0.1:9' } });
  });

  afterAll(async () => {
    await service?.stop();
  });

  test('when an operator cancels an event run that cannot finish, then the run ends cancelled, the event is failed saying so, and a retry starts a new run', async () => {
    const invoice = paidInvoice({ subtotal: 3_000, customerEmail: 'cancel@example.com' });
    const event = stripeEvent('invoice.paid', invoice);
    await deliver(service.url, event);
    await until(async () => (await count(service, 'SELECT 1 FROM payments WHERE invoice_id = $1', [invoice.id])) === 1, 10_000);

    await temporalCli(service, 'workflow', 'cancel', '--workflow-id', event.id);

    expect(await eventStatusWhenDone(service, event.id)).toBe('failed');
    const { body } = await admin(service, `/events/${event.id}`);
    expect(body.last_error).toBe('cancelled by an operator; POST /admin/events/:id/retry runs it again');
    expect((await service.temporal.workflow.getHandle(event.id).describe()).status.name).toBe('CANCELLED');
    const retry = await admin(service, `/events/${event.id}/retry`, { method: 'POST' });
    expect(retry.status).toBe(202);
    expect(retry.body.run_id).not.toBe(body.run_id);
    expect(await count(service, 'SELECT 1 FROM payments WHERE invoice_id = $1', [invoice.id])).toBe(1);
    await service.temporal.workflow.getHandle(event.id).terminate('test over');
  });
});
