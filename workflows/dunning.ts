import {
  condition,
  defineQuery,
  defineSignal,
  patched,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { retryUntilDone } from './activity-proxies';
import {
  DunningQuery,
  DunningSignal,
  DunningStage,
  type DunningInput,
  type DunningOutcome,
  type DunningSettlement,
  type DunningStatus,
  type InvoiceSettledSignalArgs,
  type PaymentFailedSignalArgs,
} from './contracts';

const paymentFailedSignal = defineSignal<[PaymentFailedSignalArgs]>(DunningSignal.paymentFailed);
const invoiceSettledSignal = defineSignal<[InvoiceSettledSignalArgs]>(DunningSignal.invoiceSettled);
const statusQuery = defineQuery<DunningStatus>(DunningQuery.status);

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
    const stillUnpaid = await retryUntilDone.sendDunningNotice(input.invoiceId, step, steps, following);
    if (!stillUnpaid) settlement = 'recovered';
    else if (input.retryPayments) await retryUntilDone.retryInvoicePayment(input.invoiceId, step);
  }
  nextStepAt = null;

  // The last retry may have just succeeded (or the customer paid) with its event still on the
  // way: wait for it, then look at the invoice once more, before anything final happens.
  // Runs started before this grace period go straight to the end, as they did.
  if (!settlement && patched('dunning-final-grace')) {
    setStage('grace');
    if (input.finalGraceMs) await condition(() => settlement !== undefined, input.finalGraceMs);
    if (!settlement) {
      const standing = await retryUntilDone.checkInvoiceStanding(input.invoiceId);
      if (standing !== 'unpaid') settlement = standing;
    }
  }

  outcome = settlement ?? 'exhausted';
  setStage(outcome);
  await retryUntilDone.finishDunning(input.invoiceId, outcome, input.finalAction);
  return outcome;
}
