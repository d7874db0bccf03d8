import { sleep } from '@temporalio/workflow';
import { retryUntilDone } from './activity-proxies';
import type { DisputeReminderInput, DisputeReminderResult } from './contracts';

/**
 * One per dispute that waits for an answer: a durable timer until `leadMs` before the answer is
 * due (or halfway there, when it is due sooner), then finance is emailed if the dispute still
 * waits (an unanswered dispute is lost at its due date). Evidence submitted or the dispute closed
 * by then: nothing is sent.
 */
export async function disputeAnswerReminder(input: DisputeReminderInput): Promise<DisputeReminderResult> {
  // The workflow's clock is the time of its task, replayed as recorded.
  const dueAt = new Date(input.dueBy).getTime();
  // Due sooner than the lead: the opening email named the date; remind halfway there.
  const remindAt = Math.max(dueAt - input.leadMs, Date.now() + (dueAt - Date.now()) / 2);
  const wait = Math.round(remindAt - Date.now());
  if (wait > 0) await sleep(wait, { summary: `Until the reminder is due, ${new Date(remindAt).toISOString().slice(0, 16).replace('T', ' ')} UTC` });
  return retryUntilDone.remindFinanceOfDispute(input);
}
