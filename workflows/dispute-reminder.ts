import { condition, defineSignal, setHandler, sleep } from '@temporalio/workflow';
import { retryUntilDone } from './activity-proxies';
import { DisputeReminderSignal, utcMinute, type DisputeReminderInput, type DisputeReminderResult, type DisputeSettledSignalArgs } from './contracts';

const disputeSettledSignal = defineSignal<[DisputeSettledSignalArgs]>(DisputeReminderSignal.disputeSettled);

/**
 * One per dispute that waits for an answer: a durable timer until `leadMs` before the answer is
 * due (or halfway there, when it is due sooner), then finance is emailed if the dispute still
 * waits (an unanswered dispute is lost at its due date). A dispute event that says it was
 * answered or closed ends it at once, so that only reminders still to come show as running.
 */
export async function disputeAnswerReminder(input: DisputeReminderInput): Promise<DisputeReminderResult> {
  const settled: { status?: string } = {};
  setHandler(disputeSettledSignal, ({ status }) => void (settled.status ??= status));
  // The workflow's clock is the time of its task, replayed as recorded.
  const dueAt = new Date(input.dueBy).getTime();
  // Due sooner than the lead: the opening email named the date; remind halfway there.
  const remindAt = dueAt - input.leadMs > Date.now() ? dueAt - input.leadMs : Date.now() + (dueAt - Date.now()) / 2;
  const wait = Math.round(remindAt - Date.now());
  if (wait > 0) {
    await Promise.race([sleep(wait, { summary: `Until the reminder is due, ${utcMinute(new Date(remindAt))}` }), condition(() => settled.status !== undefined)]);
  }
  if (settled.status !== undefined) return { reminded: false, status: settled.status };
  return retryUntilDone.remindFinanceOfDispute(input);
}
