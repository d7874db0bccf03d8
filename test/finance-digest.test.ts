import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { financeDigestScheduleId } from '../src/platform/finance-digest-schedule';
import { FailureType, WorkflowType } from '../workflows/contracts';
import { applicationFee, capturedCharge, creditNote, disputeWithFunds, paidInvoice, topup } from './support/billing-events';
import { deliverTwiceAndWait, eventStatusWhenDone, startTestService, type TestService } from './support/service';
import { deliver, stripeEvent } from './support/stripe-events';
import { until } from './support/until';

/** The daily digest: a Temporal Schedule the worker keeps, emailing finance the day before. */

let service: TestService;

beforeAll(async () => {
  service = await startTestService();
});

afterAll(async () => {
  await service?.stop();
});

const dayBefore = () => new Date(Date.now() - 24 * 3600 * 1000).toISOString().slice(0, 10);
const digests = () => service.smtp.to(service.config.FINANCE_EMAIL).filter((mail) => mail.subject?.startsWith('Daily digest'));
const schedule = () => service.temporal.schedule.getHandle(financeDigestScheduleId(service.config.TEMPORAL_TASK_QUEUE));

/** Triggers the schedule and waits until the run it started has finished. */
async function runSchedule(): Promise<void> {
  const before = (await schedule().describe()).info.recentActions.length;
  await schedule().trigger();
  await until(async () => (await schedule().describe()).info.recentActions.length > before, 10_000);
  const { recentActions } = (await schedule().describe()).info;
  await service.temporal.workflow.getHandle(recentActions[recentActions.length - 1].action.workflow.workflowId).result();
}

test('when the worker starts, then the digest schedule exists and starts the digest workflow daily', async () => {
  const description = await schedule().describe();

  expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: WorkflowType.financeDailyDigest, taskQueue: service.config.TEMPORAL_TASK_QUEUE });
  expect(description.spec.calendars).toEqual([expect.objectContaining({ hour: [{ start: 6, end: 6, step: 1 }], minute: [{ start: 0, end: 0, step: 1 }] })]);
});

test('when the digest runs twice for a day, then finance gets one email with the platform\'s figures (with a top-up and the fees it earned on a connected account\'s sale), what needs attention (a dispute still to answer and a charge not booked among them) and the journal attached, and the connected account\'s sale only counted', async () => {
  const day = dayBefore();
  const noon = Date.parse(`${day}T12:00:00Z`) / 1000;
  const sale = { ...capturedCharge({ amount: 2_500, invoice: null }), id: `ch_test_digest_${Date.now()}`, created: noon };
  await deliverTwiceAndWait(service, stripeEvent('charge.succeeded', sale, { created: noon }));
  const connectedSale = { ...capturedCharge({ amount: 9_900, invoice: null }), id: `ch_test_digest_connected_${Date.now()}`, created: noon };
  await deliverTwiceAndWait(service, stripeEvent('charge.succeeded', connectedSale, { created: noon, account: 'acct_digest' }));
  await deliverTwiceAndWait(service, stripeEvent('application_fee.created', { ...applicationFee({ amount: 990 }), created: noon }, { created: noon }));
  await deliverTwiceAndWait(service, stripeEvent('topup.succeeded', topup(`tu_test_digest_${Date.now()}`, 50_000, 'succeeded'), { created: noon }));
  // A newer API version's charge, which without a key cannot be told apart from an invoice's.
  const unplaced = { ...capturedCharge({ amount: 700 }), id: `ch_test_digest_unplaced_${Date.now()}`, created: noon };
  await deliverTwiceAndWait(service, stripeEvent('charge.succeeded', unplaced, { created: noon }));
  const dueBy = { due_by: Date.UTC(2030, 0, 15, 23, 59) / 1000 };
  const waiting: Record<string, any> = { ...disputeWithFunds(`dp_test_digest_waiting_${Date.now()}`, 2_500, 'needs_response', [-2_500]), charge: sale.id, evidence_details: dueBy };
  const answered: Record<string, any> = { ...disputeWithFunds(`dp_test_digest_answered_${Date.now()}`, 1_000, 'needs_response', []), charge: sale.id, evidence_details: dueBy };
  await deliverTwiceAndWait(service, stripeEvent('charge.dispute.created', waiting, { created: noon }));
  await deliverTwiceAndWait(service, stripeEvent('charge.dispute.created', answered, { created: noon }));
  await deliverTwiceAndWait(service, stripeEvent('charge.dispute.updated', { ...answered, status: 'under_review' }, { created: noon + 60 }));
  const broken = stripeEvent('customer.updated', { object: 'invoice', id: 'in_not_a_customer' });
  await deliver(service.url, broken);
  expect(await eventStatusWhenDone(service, broken.id)).toBe('failed');

  await Promise.all([runSchedule(), runSchedule()]);
  await runSchedule();

  expect(digests()).toHaveLength(1);
  const [digest] = digests();
  expect(digest.subject).toBe(`Daily digest ${day}: 4 item(s) need attention`);
  expect(digest.text).toContain('1 captured charge(s) not in the books: whether they pay an invoice is unknown without STRIPE_SECRET_KEY (GET /admin/ledger/charges-not-booked; with a key, POST …/place books them)');
  expect(digest.text).toContain(`Dispute ${waiting.id} on ${sale.id} ($25.00) waits for an answer, due by 2030-01-15 23:59 UTC`);
  expect(digest.text).not.toContain(answered.id);
  expect(digest.text).toContain('USD: revenue $25.00');
  expect(digest.text).toContain('paid out $0.00, topped up $500.00, application fees $9.90, transferred to connected accounts $0.00');
  expect(digest.text).toContain(`1 event(s) failed and wait for a retry: ${broken.id} (customer.updated)`);
  expect(digest.text).toContain('2 charge(s) or refund(s) wait for their Stripe fee');
  expect(digest.attachments.map((a) => [a.filename, a.contentType])).toEqual([[`journal-${day}.csv`, 'text/csv']]);
  const journal = digest.attachments[0].content.toString('utf8').trim().split('\n');
  expect(journal[0]).toBe('date,reference,account,debit,credit,currency,memo');
  expect(journal).toContain(`${day},charge:${sale.id}:sale,stripe_balance,25.00,,USD,Charge ${sale.id} outside invoices`);
  expect(digest.text).toContain('Connected accounts: 1 account(s) booked 1 entry in their own books, left out above');
  expect(journal.some((line) => line.includes(connectedSale.id))).toBe(false);
});

test('when an operator starts the digest for a day that does not exist, then it fails as invalid input and sends nothing', async () => {
  const sent = digests().length;

  const run = service.temporal.workflow.execute(WorkflowType.financeDailyDigest, {
    workflowId: `finance-digest-bad-day-${Date.now()}`,
    taskQueue: service.config.TEMPORAL_TASK_QUEUE,
    args: [{ day: '2026-02-30' }],
  });

  const failure = await run.catch((err: unknown) => err);
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  const cause = (failure as WorkflowFailedError).cause as ApplicationFailure;
  expect([cause.type, cause.message]).toEqual([FailureType.InvalidInput, 'digest day "2026-02-30" is not a day like 2026-11-30']);
  expect(digests()).toHaveLength(sent);
});

test("when credit notes were issued on a day, then that day's digest lists them per currency, a connected account's left out", async () => {
  const day = new Date(Date.now() - 3 * 24 * 3600 * 1000).toISOString().slice(0, 10);
  const invoice = paidInvoice({ subtotal: 5_000 });
  await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice));
  const notes = [creditNote({ invoiceId: invoice.id, amount: 1_200, to: 'balance' }), creditNote({ invoiceId: invoice.id, amount: 800, to: 'refund' })];
  for (const note of notes) await deliverTwiceAndWait(service, stripeEvent('credit_note.created', note));
  const connectedInvoice = paidInvoice({ subtotal: 3_000 });
  await deliverTwiceAndWait(service, stripeEvent('invoice.paid', connectedInvoice, { account: 'acct_digest_notes' }));
  const connectedNote = creditNote({ invoiceId: connectedInvoice.id, amount: 3_000, to: 'balance' });
  await deliverTwiceAndWait(service, stripeEvent('credit_note.created', connectedNote, { account: 'acct_digest_notes' }));
  // Their documents as if issued at noon that day.
  await service.database.db.query(`UPDATE documents SET created_at = $1 WHERE credit_note_id = ANY($2)`, [`${day}T12:00:00Z`, [...notes, connectedNote].map((note) => note.id)]);

  await service.temporal.workflow.execute(WorkflowType.financeDailyDigest, { workflowId: `finance-digest-notes-${Date.now()}`, taskQueue: service.config.TEMPORAL_TASK_QUEUE, args: [{ day }] });

  const digest = digests().find((mail) => mail.subject?.startsWith(`Daily digest ${day}`));
  expect(digest?.text).toContain('Credit notes issued:\n2 × USD, $20.00 in all');
});
