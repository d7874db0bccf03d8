import {
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  patched,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { retryUntilDone, tryLocallyThenRetry } from './activity-proxies';
import {
  DunningQuery,
  DunningSignal,
  DunningStage,
  DunningUpdate,
  type DunningInput,
  type DunningPauseArgs,
  type DunningStopArgs,
  type DunningOutcome,
  type DunningSettlement,
  type DunningStatus,
  type InvoiceSettledSignalArgs,
  type PaymentFailedSignalArgs,
} from './contracts';

const paymentFailedSignal = defineSignal<[PaymentFailedSignalArgs]>(DunningSignal.paymentFailed);
const invoiceSettledSignal = defineSignal<[InvoiceSettledSignalArgs]>(DunningSignal.invoiceSettled);
const statusQuery = defineQuery<DunningStatus>(DunningQuery.status);
const pauseUpdate = defineUpdate<DunningStatus, [DunningPauseArgs]>(DunningUpdate.pause);
const resumeUpdate = defineUpdate<DunningStatus, []>(DunningUpdate.resume);
const stopUpdate = defineUpdate<DunningStatus, [DunningStopArgs]>(DunningUpdate.stop);
const skipUpdate = defineUpdate<DunningStatus, []>(DunningUpdate.skipToFinalAction);

/** An operator's reason: one line of text, short. */
function reasonOf(value: unknown, required: boolean): string | null {
  if (value === undefined && !required) return null;
  if (typeof value !== 'string' || value.trim() === '' || value.length > 500) {
    throw new Error(`reason must be a text of 1 to 500 characters${required ? '' : ', or left out'}`);
  }
  return value.trim();
}

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
  // What operators asked for (updates): hold, end without the final action, or go straight to it.
  let paused: { since: number; reason: string | null; stageBefore: string } | null = null;
  let pausedMs = 0;
  let stopReason: string | null = null;
  let skipToFinal = false;
  const ended = () => settlement !== undefined || stopReason !== null || skipToFinal;

  const setStage = (name: string) => {
    stage = name;
    upsertSearchAttributes([{ key: DunningStage, value: name }]);
  };
  const status = (): DunningStatus => ({
    stage,
    nextStepAt: nextStepAt === null || paused ? null : new Date(nextStepAt + pausedMs).toISOString(),
    attempts: failures.size,
    outcome,
    paused: paused && { since: new Date(paused.since).toISOString(), reason: paused.reason },
    stopReason,
  });

  setHandler(paymentFailedSignal, ({ eventId }) => void failures.add(eventId));
  setHandler(invoiceSettledSignal, ({ outcome: settled }) => void (settlement ??= settled));
  setHandler(statusQuery, status);

  const stillRunning = () => {
    if (outcome !== null || ended()) throw new Error(`dunning of ${input.invoiceId} is already ending (${outcome ?? stage})`);
  };
  setHandler(
    pauseUpdate,
    (args?: DunningPauseArgs) => {
      paused = { since: Date.now(), reason: reasonOf(args?.reason, false), stageBefore: stage };
      setStage('paused');
      return status();
    },
    {
      validator: (args?: DunningPauseArgs) => {
        stillRunning();
        if (paused) throw new Error(`dunning of ${input.invoiceId} is already paused`);
        reasonOf(args?.reason, false);
      },
    },
  );
  setHandler(
    resumeUpdate,
    () => {
      const held = paused!;
      pausedMs += Date.now() - held.since;
      paused = null;
      setStage(held.stageBefore);
      return status();
    },
    {
      validator: () => {
        stillRunning();
        if (!paused) throw new Error(`dunning of ${input.invoiceId} is not paused`);
      },
    },
  );
  setHandler(
    stopUpdate,
    (args) => {
      stopReason = reasonOf(args?.reason, true);
      return status();
    },
    { validator: (args) => void (stillRunning(), reasonOf(args?.reason, true)) },
  );
  setHandler(
    skipUpdate,
    () => {
      skipToFinal = true;
      paused = null;
      return status();
    },
    { validator: () => stillRunning() },
  );

  const startedAt = Date.now();
  /** Waits until `offsetMs` after the start (later by the time spent paused), or until the dunning ends. */
  const waitUntil = async (offsetMs: number) => {
    for (;;) {
      if (ended()) return;
      if (paused) {
        await condition(() => !paused || ended());
        continue;
      }
      const wait = startedAt + offsetMs + pausedMs - Date.now();
      if (wait <= 0) return;
      if (!(await condition(() => ended() || paused !== null, wait))) return;
    }
  };

  // A notice's first attempt runs as a local activity in the workflow task (its retries as a
  // regular activity), as an event's emails do; runs started before 2026-12-04 send them as
  // regular activities only.
  const notices = patched('dunning-notices-tried-locally') ? tryLocallyThenRetry : retryUntilDone;
  const steps = input.scheduleMs.length;
  for (let step = 1; step <= steps && !ended(); step += 1) {
    nextStepAt = startedAt + input.scheduleMs[step - 1];
    await waitUntil(input.scheduleMs[step - 1]);
    if (ended()) break;
    setStage(`notice ${step}/${steps}`);
    const following = step < steps ? new Date(startedAt + pausedMs + input.scheduleMs[step]).toISOString() : null;
    const stillUnpaid = await notices.sendDunningNotice(input.invoiceId, step, steps, following);
    if (!stillUnpaid) settlement = 'recovered';
    else if (input.retryPayments) await retryUntilDone.retryInvoicePayment(input.invoiceId, step);
  }
  nextStepAt = null;

  // The last retry may have just succeeded (or the customer paid) with its event still on the
  // way: wait for it, then look at the invoice once more, before anything final happens.
  // Runs started before this grace period go straight to the end, as they did.
  if (!settlement && stopReason === null && patched('dunning-final-grace')) {
    setStage('grace');
    if (input.finalGraceMs && !skipToFinal) await condition(() => ended(), input.finalGraceMs);
    // An operator who paused the dunning during the grace period holds the final action too.
    await condition(() => !paused || ended());
    if (!settlement && stopReason === null) {
      const standing = await retryUntilDone.checkInvoiceStanding(input.invoiceId);
      if (standing !== 'unpaid') settlement = standing;
    }
  }

  outcome = settlement ?? (stopReason !== null ? 'stopped' : 'exhausted');
  setStage(outcome);
  // Only an exhausted dunning takes the final action; a stopped one keeps its reason.
  await retryUntilDone.finishDunning(input.invoiceId, outcome, input.finalAction, stopReason);
  return outcome;
}
