import { log } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import type { Config } from '../src/config';
import type { Db } from '../src/db';
import { loadEventPayload, markFinished, markProcessing, type EventStatus } from '../src/events';
import type { Metrics } from '../src/metrics';
import type { Mailer } from '../src/outbox';
import { getPayment } from '../src/payments';
import { reconcileEvents } from '../src/reconcile';
import type { DunningInput, DunningOutcome, DunningSettlement } from '../workflows/dunning';
import { applyCheckout, sendWelcome } from './checkout';
import { upsertCustomer } from './customers';
import { sendCustomerNotice, type NoticeKind } from './notices';
import { syncPaymentMethod, syncPlainObject, syncSetupIntent, type PlainObjectTable } from './stripe-objects';
import { syncSubscription } from './subscriptions';
import { finishDunning, retryInvoicePayment, sendDunningNotice, settleDunning, startOrSignalDunning } from './dunning';
import {
  postBadDebt,
  postChargeRefunds,
  postDisputeClosed,
  postDisputeOpened,
  postInvoiceRecognized,
  postPaymentSettled,
} from './ledger';
import { readInvoice } from './invoice-payload';
import {
  createPaymentDocuments,
  emailPaymentDocuments,
  readInvoiceOf,
  recordInvoicePayment,
  recordSubscriptionPeriod,
} from './payments';

export interface ActivityDependencies {
  db: Db;
  mailer: Mailer;
  config: Config;
  /** Activities that start or signal other workflows (dunning) use it. */
  temporal: Client;
  /** Undefined without STRIPE_SECRET_KEY; features that need it log that they are skipped. */
  stripe?: Stripe;
  metrics: Metrics;
  /** For work outside one event (reconcile); per-event lines go through the activity logger. */
  log: Logger;
}

/** Every side effect of the workflows, as plain async functions over their dependencies. */
export function createActivities(deps: ActivityDependencies) {
  const { db, mailer, config, metrics } = deps;
  return {
    async markEventProcessing(eventId: string, runId: string): Promise<void> {
      await markProcessing(db, eventId, runId);
      log.info('event processing', { eventId });
    },

    async markEventFinished(
      eventId: string,
      status: Extract<EventStatus, 'processed' | 'ignored' | 'failed'>,
      error?: string,
    ): Promise<void> {
      const finished = await markFinished(db, eventId, status, error);
      if (!finished) return;
      metrics.eventsProcessed.inc({ type: finished.type, result: status });
      metrics.eventProcessingSeconds.observe({ type: finished.type }, finished.seconds);
      log[status === 'failed' ? 'warn' : 'info'](`event ${status}`, { eventId, type: finished.type, error });
    },

    async reconcileEvents(): Promise<{ listed: number; started: number }> {
      if (!deps.stripe) {
        deps.log.warn('reconcile skipped: STRIPE_SECRET_KEY is not set');
        return { listed: 0, started: 0 };
      }
      const result = await reconcileEvents({ ...deps, stripe: deps.stripe, temporal: deps.temporal });
      return { listed: result.listed, started: result.started.length };
    },

    async syncCustomer(eventId: string): Promise<void> {
      await upsertCustomer(db, await loadEventPayload(db, eventId));
    },

    /** The payment id, or null when the invoice carries no settled payment. */
    async recordInvoicePayment(eventId: string): Promise<number | null> {
      const payment = await recordInvoicePayment(db, await loadEventPayload(db, eventId));
      return payment?.id ?? null;
    },

    async createPaymentDocuments(paymentId: number): Promise<string[]> {
      return createPaymentDocuments(db, config, paymentId);
    },

    async emailPaymentDocuments(paymentId: number): Promise<void> {
      await emailPaymentDocuments(db, mailer, config, paymentId);
    },

    async postPaymentToLedger(paymentId: number): Promise<void> {
      const payment = await getPayment(db, paymentId);
      if (!payment) throw new Error(`payment ${paymentId} does not exist`);
      await postInvoiceRecognized(db, readInvoice(payment.invoice), payment.paid_at, payment.source_event_id);
      await postPaymentSettled(db, payment);
    },

    async recordSubscriptionPeriod(paymentId: number): Promise<void> {
      await recordSubscriptionPeriod(db, config, paymentId);
    },

    async postInvoiceFinalized(eventId: string): Promise<void> {
      const event = await loadEventPayload(db, eventId);
      const invoice = readInvoiceOf(event);
      await postInvoiceRecognized(db, invoice, new Date((invoice.finalizedAt ?? event.created) * 1000), event.id);
    },

    async postInvoiceUncollectible(eventId: string): Promise<void> {
      const event = await loadEventPayload(db, eventId);
      const invoice = readInvoiceOf(event);
      await postInvoiceRecognized(db, invoice, new Date((invoice.finalizedAt ?? event.created) * 1000), event.id);
      await postBadDebt(db, invoice, event);
    },

    async postChargeRefunds(eventId: string): Promise<void> {
      await postChargeRefunds(db, await loadEventPayload(db, eventId));
    },

    async postDisputeOpened(eventId: string): Promise<void> {
      await postDisputeOpened(db, await loadEventPayload(db, eventId));
    },

    async postDisputeClosed(eventId: string): Promise<void> {
      await postDisputeClosed(db, await loadEventPayload(db, eventId));
    },

    async syncSubscription(eventId: string): Promise<void> {
      await syncSubscription(db, config, await loadEventPayload(db, eventId));
    },

    async syncPaymentMethod(eventId: string): Promise<void> {
      await syncPaymentMethod(db, await loadEventPayload(db, eventId));
    },

    async syncSetupIntent(eventId: string): Promise<void> {
      await syncSetupIntent(db, await loadEventPayload(db, eventId));
    },

    async syncPlainObject(eventId: string, table: PlainObjectTable): Promise<void> {
      await syncPlainObject(db, table, await loadEventPayload(db, eventId));
    },

    async completeCheckout(eventId: string): Promise<void> {
      const event = await loadEventPayload(db, eventId);
      const checkout = await applyCheckout(db, config, event);
      if (checkout) await sendWelcome(deps, checkout, event.id);
    },

    async sendCustomerNotice(eventId: string, kind: NoticeKind): Promise<void> {
      await sendCustomerNotice(deps, await loadEventPayload(db, eventId), kind);
    },

    async startOrSignalDunning(eventId: string): Promise<void> {
      await startOrSignalDunning(deps, await loadEventPayload(db, eventId));
    },

    async settleDunning(eventId: string, outcome: DunningSettlement): Promise<void> {
      await settleDunning(deps, await loadEventPayload(db, eventId), outcome);
    },

    async sendDunningNotice(invoiceId: string, step: number, steps: number, nextStepAt: string | null): Promise<boolean> {
      return sendDunningNotice(deps, invoiceId, step, steps, nextStepAt);
    },

    async retryInvoicePayment(invoiceId: string, step: number): Promise<void> {
      await retryInvoicePayment(deps, invoiceId, step);
    },

    async finishDunning(invoiceId: string, outcome: DunningOutcome, finalAction: DunningInput['finalAction']): Promise<void> {
      await finishDunning(deps, invoiceId, outcome, finalAction);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
