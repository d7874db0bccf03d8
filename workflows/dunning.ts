import {
  condition,
  defineQuery,
  defineSignal,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { DunningStage } from './search-attributes';

export interface DunningInput {
  invoiceId: string;
  /** Offsets from the start, in milliseconds, at which notices go out (DUNNING_SCHEDULE). */
  scheduleMs: number[];
  finalAction: 'cancel_subscription' | 'mark_uncollectible' | 'none';
  retryPayments: boolean;
}

export type DunningSettlement = 'recovered' | 'voided' | 'uncollectible';
export type DunningOutcome = DunningSettlement | 'exhausted';

export interface DunningStatus {
  stage: string;
  nextStepAt: string | null;
  attempts: number;
  outcome: DunningOutcome | null;
}

export const paymentFailedSignal = defineSignal<[{ eventId: string }]>('paymentFailed');
export const invoiceSettledSignal = defineSignal<[{ outcome: DunningSettlement }]>('invoiceSettled');
export const statusQuery = defineQuery<DunningStatus>('status');

const acts = proxyActivities<Activities>({
  // As in processStripeEvent: short, so that a crashed worker's activity runs again soon.
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '5 minutes' },
});

/**
 * One per unpaid invoice (`dunning-<invoice id>`): a notice at each step of the schedule,
 * on durable timers, until the invoice is paid, voided or marked uncollectible, or the
 * schedule runs out and the final action is taken.
 */
export async function dunning(input: DunningInput): Promise<DunningOutcome> {
  const failures = new Set<string>();
  let settlement: DunningSettlement | undefined;
  let stage = 'waiting';
  let nextStepAt: number | null = null;
  let outcome: DunningOutcome | null = null;

  setHandler(paymentFailedSignal, ({ eventId }) => void failures.add(eventId));
  setHandler(invoiceSettledSignal, ({ outcome: settled }) => void (settlement ??= settled));
  setHandler(statusQuery, () => ({
    stage,
    nextStepAt: nextStepAt === null ? null : new Date(nextStepAt).toISOString(),
    attempts: failures.size,
    outcome,
  }));

  const setStage = (name: string) => {
    stage = name;
    upsertSearchAttributes([{ key: DunningStage, value: name }]);
  };

  const startedAt = Date.now();
  const steps = input.scheduleMs.length;
  for (let step = 1; step <= steps && !settlement; step += 1) {
    nextStepAt = startedAt + input.scheduleMs[step - 1];
    const wait = nextStepAt - Date.now();
    if (wait > 0 && (await condition(() => settlement !== undefined, wait))) break;
    setStage(`notice ${step}/${steps}`);
    const following = step < steps ? new Date(startedAt + input.scheduleMs[step]).toISOString() : null;
    const stillUnpaid = await acts.sendDunningNotice(input.invoiceId, step, steps, following);
    if (!stillUnpaid) settlement = 'recovered';
    else if (input.retryPayments) await acts.retryInvoicePayment(input.invoiceId, step);
  }
  nextStepAt = null;

  outcome = settlement ?? 'exhausted';
  setStage(outcome);
  await acts.finishDunning(input.invoiceId, outcome, input.finalAction);
  return outcome;
}
