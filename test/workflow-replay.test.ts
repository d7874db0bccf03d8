import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from './support/service';

// Recorded executions of the workflows (see test/record-histories.ts): dunning runs and event
// runs (paid, ignored, failed), recorded from the code of commit cc25ccc (every step a regular
// activity) and, labelled `local-activities`, from the code that runs database steps as local
// activities, and, labelled `final-grace`, dunning runs with the grace period before the final
// action. `before-invoice-math` (recorded from dc51033) and `invoice-math`: the event types whose
// ledger postings changed behind the `ledger-follows-invoice-math` patch (void, credit note,
// disputes), before and after. `generation` (2026-12-02): runs started with the handler
// generation in their input, which take the newest handlers without patch markers;
// `email-tried-locally` (2026-12-04): generation 2, whose emails make their first attempt as a
// local activity (a paid invoice is one workflow task; `event-invoice-paid-email-retried`: that
// attempt failed and the step's retries ran as a regular activity), and `notices-tried-locally`,
// dunning runs whose notices do the same (the `dunning-notices-tried-locally` patch);
// `steps-together` (2026-12-04, evening): generation 3, each stretch of an event's database steps
// with its bookkeeping as one local activity (`runEventSteps`); `all-at-once` (2026-12-04, night):
// generation 4, a paid invoice's steps, its email included, as one local activity, and (`-email-
// retried`) that attempt failed and the steps ran stretch by stretch, the email as an activity.
// `event-checkout-paid-later` (2026-12-05): `checkout.session.async_payment_succeeded` stored and
// ignored (`before-checkout-waits`) and welcoming the customer (`checkout-waits-for-payment`).
// `event-account-updated` (2026-12-06): a connected account's `account.updated` ignored
// (`before-connected-account-sellers`) and stored as its documents' seller (`connected-account-sellers`);
// `event-application-fee-created` and `event-transfer-reversed` ignored and booked (`-application-fees-
// transfers`); `event-topup-succeeded` ignored (`before-topups`) and booked (`topups`);
// `event-early-fraud-warning` ignored and emailed to finance (`-early-fraud-warnings`);
// `event-invoice-overdue` ignored and starting a dunning (`-overdue-invoices`);
// `event-invoice-part-paid`: `invoice.updated` of an invoice with a part paid, stored only
// (`before-parts-paid-booked`, generation 7) and also booking the part (`parts-paid-booked`, 8). A change
// that would break executions already running in production fails here: guard it with patched()
// or keep it compatible.
const dir = path.join(__dirname, 'fixtures', 'histories');
const histories = fs.readdirSync(dir).filter((file) => file.endsWith('.json'));

test('when replay fixtures exist, then there are histories of both dunning endings and of every event outcome', () => {
  for (const kind of ['dunning-exhausted', 'dunning-recovered', 'event-invoice-paid', 'event-ignored', 'event-failed']) {
    expect(histories.some((file) => file.startsWith(kind))).toBe(true);
  }
});

test.each(histories)('when %s is replayed against the current workflow code, then it is deterministic', async (file) => {
  const history = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));

  await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file)).resolves.toBeUndefined();
});
