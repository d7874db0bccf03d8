/**
 * Records histories of the event and dunning workflows as replay fixtures (test/fixtures/histories).
 * Run after a deliberate, compatible change to record new ones next to the old, with a label
 * naming the change (the file names end in `<date>-<label>`):
 *   TEST_TEMPORAL_ADDRESS=127.0.0.1:7233 HISTORY_LABEL=local-activities npx tsx test/record-histories.ts
 * `HISTORY_ONLY=event-invoice-voided,event-credit-note` records only the fixtures so named (a
 * change that touches some shapes only).
 * Never delete a fixture of a version that may still be running in production.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { applicationFee, capturedCharge, connectTransfer, creditNote, disputeWithFunds, earlyFraudWarning, invoicePayment, paidInvoice, payout, topup } from './support/billing-events';
import { eventStatusWhenDone, startTestService, type TestService } from './support/service';
import { startTestSmtp } from './support/smtp';
import { startStallingProxy } from './support/stalling-proxy';
import { deliver, stripeEvent, stripeObject } from './support/stripe-events';

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  // A dispute reminder lead longer than the time left to answer the recorded dispute: it reminds halfway there.
  const service = await startTestService({ overrides: { DUNNING_SCHEDULE: '0s,2s,4s', DUNNING_FINAL_GRACE: '1s', DISPUTE_REMINDER_LEAD: '2d' } });
  const date = [new Date().toISOString().slice(0, 10), process.env.HISTORY_LABEL].filter(Boolean).join('-');
  const only = process.env.HISTORY_ONLY?.split(',');
  const wanted = (name: string) => !only || only.includes(name);
  try {
    const exhausted = paidInvoice({ status: 'open', customerEmail: 'replay@example.com' });
    const recovered = paidInvoice({ status: 'open', customerEmail: 'replay@example.com' });
    for (const invoice of [exhausted, recovered]) {
      const failed = stripeEvent('invoice.payment_failed', invoice);
      await deliver(service.url, failed);
      await eventStatusWhenDone(service, failed.id);
    }
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const paid = stripeEvent('invoice.paid', paidInvoice({ id: recovered.id, customerEmail: 'replay@example.com' }));
    await deliver(service.url, paid);

    const record = (name: string, workflowId: string) => {
      if (wanted(name)) writeHistory(service, name, date, workflowId);
    };
    for (const [name, invoice] of [['exhausted', exhausted], ['recovered', recovered]] as const) {
      await service.temporal.workflow.getHandle(`dunning-${invoice.id}`).result();
      record(`dunning-${name}`, `dunning-${invoice.id}`);
    }

    // processStripeEvent: a paid invoice (every step), a type without handler, bad data (failed),
    // the types whose ledger follows Stripe's invoice math, a charge outside invoices, a payout
    // a checkout paid by a delayed payment method, a connected account's details, and a Connect
    // platform's application fee and transfer, a customer's balance changed (each change behind its
    // own patch).
    const events = {
      'event-invoice-paid': paid,
      'event-ignored': stripeEvent('plan.created', { object: 'plan', id: 'plan_replay' }),
      'event-failed': stripeEvent('customer.updated', { object: 'invoice', id: 'in_not_a_customer' }),
      'event-invoice-voided': stripeEvent('invoice.voided', { ...exhausted, status: 'void' }),
      'event-credit-note': stripeEvent('credit_note.created', creditNote({ invoiceId: recovered.id, amount: 500, to: 'balance' })),
      'event-dispute-created': stripeEvent('charge.dispute.created', {
        ...disputeWithFunds('dp_replay_created', 500, 'needs_response', []),
        evidence_details: { due_by: Math.floor(Date.now() / 1000) + 6, has_evidence: false, past_due: false, submission_count: 0 },
      }),
      'event-dispute-funds-withdrawn': stripeEvent('charge.dispute.funds_withdrawn', disputeWithFunds('dp_replay', 500, 'needs_response', [-500])),
      'event-charge-succeeded': stripeEvent('charge.succeeded', capturedCharge({ amount: 800, invoice: null })),
      'event-payout-paid': stripeEvent('payout.paid', payout('po_replay', 800, 'paid')),
      'event-account-updated': stripeEvent('account.updated', stripeObject('account', { id: 'acct_replay' }), { account: 'acct_replay' }),
      'event-application-fee-created': stripeEvent('application_fee.created', applicationFee({ amount: 150 })),
      'event-transfer-reversed': stripeEvent('transfer.reversed', connectTransfer({ amount: 800, returned: [300] })),
      'event-topup-succeeded': stripeEvent('topup.succeeded', topup('tu_replay', 5_000, 'succeeded')),
      'event-early-fraud-warning': stripeEvent('radar.early_fraud_warning.created', earlyFraudWarning('ch_replay_warned')),
      'event-customer-balance-updated': stripeEvent('customer.updated', stripeObject('customer', { id: 'cus_replay_balance', balance: -500 }), {
        data: { object: stripeObject('customer', { id: 'cus_replay_balance', balance: -500 }), previous_attributes: { balance: 0 } },
      }),
      'event-invoice-part-paid': stripeEvent('invoice.updated', { ...paidInvoice({ status: 'open', customerEmail: 'replay@example.com' }), amount_paid: 2_000, amount_remaining: 8_000 }),
      'event-invoice-overdue': stripeEvent('invoice.overdue', { ...paidInvoice({ status: 'open', customerEmail: 'replay@example.com' }), collection_method: 'send_invoice' }),
      'event-invoice-payment-paid': stripeEvent('invoice_payment.paid', invoicePayment({ invoiceId: 'in_replay_in_parts', paymentIntentId: 'pi_replay_part', amount: 4_000 })),
      'event-checkout-paid-later': stripeEvent(
        'checkout.session.async_payment_succeeded',
        stripeObject('checkout.session', { id: 'cs_replay', payment_status: 'paid', customer: 'cus_replay', customer_email: 'replay@example.com' }),
      ),
    };
    for (const [name, event] of Object.entries(events)) {
      if (event !== paid) await deliver(service.url, event);
      await eventStatusWhenDone(service, event.id);
      record(name, event.id);
    }
    // The reminder the dispute's event started (due sooner than the lead: its timer fires halfway there).
    if (wanted('dispute-reminder')) {
      await service.temporal.workflow.getHandle('dispute-reminder-dp_replay_created').result();
      record('dispute-reminder', 'dispute-reminder-dp_replay_created');
    }
    // One ended by its dispute's answer while its timer waited.
    if (wanted('dispute-reminder-answered')) {
      const waiting = { ...disputeWithFunds('dp_replay_answered', 500, 'needs_response', []), evidence_details: { due_by: Math.floor(Date.now() / 1000) + 86_400, has_evidence: false, past_due: false, submission_count: 0 } };
      for (const event of [stripeEvent('charge.dispute.created', waiting), stripeEvent('charge.dispute.updated', { ...waiting, status: 'under_review' }, { created: Math.floor(Date.now() / 1000) + 1 })]) {
        await deliver(service.url, event);
        await eventStatusWhenDone(service, event.id);
      }
      await service.temporal.workflow.getHandle('dispute-reminder-dp_replay_answered').result();
      record('dispute-reminder-answered', 'dispute-reminder-dp_replay_answered');
    }
  } finally {
    await service.stop();
  }
  if (wanted('event-invoice-paid-email-retried')) await recordEmailRetried(date);
}

/**
 * A paid invoice whose emails' first attempt (a local activity) failed: the mail server never
 * greeted, then answered, and the step's retries as a regular activity sent them.
 */
async function recordEmailRetried(date: string) {
  const smtp = await startTestSmtp();
  const proxy = await startStallingProxy({ host: '127.0.0.1', port: Number(new URL(smtp.url).port) });
  proxy.stall();
  const service = await startTestService({ overrides: { SMTP_URL: `smtp://127.0.0.1:${proxy.port}`, SMTP_TIMEOUT_MS: '1000' } });
  try {
    const paid = stripeEvent('invoice.paid', paidInvoice({ customerEmail: 'replay@example.com' }));
    await deliver(service.url, paid);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    proxy.resume();
    await eventStatusWhenDone(service, paid.id);
    writeHistory(service, 'event-invoice-paid-email-retried', date, paid.id);
  } finally {
    await service.stop();
    await proxy.stop();
    await smtp.stop();
  }
}

/** The CLI writes the history in the JSON form Temporal's replayer reads. */
function writeHistory(service: TestService, name: string, date: string, workflowId: string) {
  const file = path.join(__dirname, 'fixtures', 'histories', `${name}-${date}.json`);
  const history = execFileSync(
    path.join(__dirname, '..', '.tools', 'bin', 'temporal'),
    ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', '--address', service.config.TEMPORAL_ADDRESS!],
    { encoding: 'utf8' },
  );
  fs.writeFileSync(file, history);
  console.log(`wrote ${file}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
