import { startWorker, type RunningWorker } from '../../src/main/processes';
import { createLogger } from '../../src/platform/log';
import { startTestService, workflowBundle, type TestService } from './service';

/**
 * A misconfigured FINANCE_EMAIL that the relay refuses for good (550): a paid invoice's event
 * fails, until ops fix the address and restart the worker.
 */
export const wrongFinance = 'finance@typo.example';
export const rightFinance = 'finance@example.com';

export function startServiceRefusingFinance(): Promise<TestService> {
  return startTestService({ overrides: { FINANCE_EMAIL: wrongFinance }, rejectRecipients: [wrongFinance] });
}

/** Ops fix the configuration: the worker restarts with the right finance address. */
export async function restartWorkerWithRightFinance(service: TestService): Promise<RunningWorker> {
  await service.worker!.stop();
  return startWorker({ ...service.config, FINANCE_EMAIL: rightFinance }, createLogger('silent'), { workflowBundle: await workflowBundle() });
}
