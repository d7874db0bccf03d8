import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client } from '@temporalio/client';
import { WorkflowType } from '../../workflows/contracts';

export function financeDigestScheduleId(taskQueue: string): string {
  return `finance-daily-digest-${taskQueue}`;
}

/**
 * The daily digest's schedule, kept to the configuration at every worker start: created when
 * missing, its time set again otherwise, deleted when the digest is `off`. A run missed
 * while the server was away is still made within a day.
 */
export async function ensureFinanceDigestSchedule(client: Client, taskQueue: string, cron: string): Promise<void> {
  const scheduleId = financeDigestScheduleId(taskQueue);
  if (cron === 'off') {
    await client.schedule.getHandle(scheduleId).delete().catch((err) => {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    });
    return;
  }
  const spec = { cronExpressions: [cron] };
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action: { type: 'startWorkflow', workflowType: WorkflowType.financeDailyDigest, workflowId: `finance-digest-${taskQueue}`, taskQueue, args: [] },
      policies: { overlap: 'SKIP', catchupWindow: '1 day' },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(scheduleId).update((schedule) => ({ ...schedule, spec }));
  }
}
