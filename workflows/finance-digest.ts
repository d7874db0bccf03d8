import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { retryUntilDone } from './activity-proxies';
import { FailureType, isCalendarDay, TemporalScheduledStartTime, type FinanceDigestInput } from './contracts';

const dayMs = 24 * 3600 * 1000;

/**
 * Run daily by the finance digest schedule: emails finance the day before the run was due (its
 * figures and its journal), once per day however often it runs. An operator may start it for
 * any day.
 */
export async function financeDailyDigest(input: FinanceDigestInput = {}): Promise<{ day: string }> {
  // The workflow's clock is the time of its task, replayed as recorded.
  const due = workflowInfo().typedSearchAttributes.get(TemporalScheduledStartTime) ?? new Date();
  const day = input.day ?? new Date(due.getTime() - dayMs).toISOString().slice(0, 10);
  if (!isCalendarDay(day)) throw ApplicationFailure.nonRetryable(`digest day ${JSON.stringify(day)} is not a day like 2026-11-30`, FailureType.InvalidInput);
  await retryUntilDone.emailDailyDigest(day);
  return { day };
}
