import Router from '@koa/router';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import Stripe from 'stripe';
import { z } from 'zod';
import { requireAdminKey } from './admin-auth';
import { addFinanceRoutes } from './admin-finance';
import { booksParam, cursorParam, documentSeriesParams, jsonBody, limitParam, oneBooksParam, refuseNulCharacters, statusParam, takesParams, textParam, windowParam } from './admin-params';
import type { Config } from '../platform/config';
import { customerView } from '../store/customers';
import type { Db } from '../platform/db';
import { documentRegister, getDocument } from '../store/documents';
import { eventEffects } from '../store/effects';
import { IntakeError } from '../intake/accept-event';
import {
  dropOldPayloads,
  eventStats,
  getEvent,
  listEvents,
  markRetried,
  type StoredEvent,
} from '../store/events';
import { HttpError, requestLog } from '../platform/http-error';
import { eventAsAdminJson } from './admin-views';
import { entriesAbout, invoicePosition, referencesOfPayingCharges, trialBalance } from '../store/ledger';
import { chargesPaying, listPayments, paymentOfInvoice } from '../store/payments';
import { reconcileEvents, type ReconcileDependencies } from '../intake/reconcile';
import { restartEventWorkflow } from '../intake/event-workflow';

export interface AdminDependencies {
  db: Db;
  temporal: Client;
  config: Pick<
    Config,
    'ADMIN_API_KEY' | 'ADMIN_READ_API_KEY' | 'ADMIN_AUTH_FAILURE_LIMIT' | 'TEMPORAL_UI_URL' | 'TEMPORAL_NAMESPACE' | 'TEMPORAL_TASK_QUEUE' | 'TEMPORAL_START_TIMEOUT_MS' | 'RECONCILE_CONNECTED_ACCOUNTS'
  >;
  log: Logger;
  stripe?: Stripe;
  /** The API's metrics, which a reconcile started here reports to. */
  metrics?: ReconcileDependencies['metrics'];
}

const cleanupRequest = z.strictObject({
  olderThanDays: z.number().int().min(1).max(3650),
});

export function createAdminRouter(deps: AdminDependencies): Router {
  const { db, config } = deps;
  const router = new Router({ prefix: '/admin' });
  router.use(requireAdminKey(config), refuseNulCharacters);

  const eventView = (event: StoredEvent) => eventAsAdminJson(event, config);

  async function requireEvent(id: string): Promise<StoredEvent> {
    const event = await getEvent(db, id);
    if (!event) throw new HttpError(404, 'not_found', `No event ${id}.`);
    return event;
  }

  router.get('/events', takesParams('status', 'type', 'customer', 'limit', 'cursor'), async (ctx) => {
    const limit = limitParam(ctx.query.limit);
    const events = await listEvents(db, {
      status: statusParam(ctx.query.status),
      type: textParam(ctx.query.type, 'type'),
      customer: textParam(ctx.query.customer, 'customer'),
      before: cursorParam(ctx.query.cursor),
      limit,
    });
    ctx.body = {
      data: events.map(eventView),
      next_cursor: events.length === limit ? String(events[events.length - 1].seq) : null,
    };
  });

  router.get('/events/:id', takesParams(), async (ctx) => {
    const event = await requireEvent(ctx.params.id);
    ctx.body = { ...eventView(event), effects: await eventEffects(db, event.id) };
  });

  router.post('/events/:id/retry', takesParams(), async (ctx) => {
    const event = await requireEvent(ctx.params.id);
    if (event.status === 'processed' || event.status === 'ignored') {
      throw new HttpError(409, 'not_failed', `Event ${event.id} is ${event.status}; only failed events are retried.`);
    }
    // `processing` may be a run an operator terminated: Temporal itself refuses while one is open.
    let started;
    try {
      started = await restartEventWorkflow(deps.temporal, config.TEMPORAL_TASK_QUEUE, event, {
        customerId: event.customer_id,
        invoiceId: event.invoice_id,
        subscriptionId: event.subscription_id,
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new HttpError(409, 'running', `A run of event ${event.id} is still open; wait for it to end.`);
      }
      requestLog(ctx).warn({ eventId: event.id, err: { message: (err as Error).message } }, 'retry: could not start');
      throw new HttpError(503, 'unavailable', 'Temporal could not start the run; try again.');
    }
    await markRetried(db, event.id, started.workflowId, started.runId);
    requestLog(ctx).info({ eventId: event.id, runId: started.runId }, 'event retried by an operator');
    ctx.status = 202;
    ctx.body = eventView((await getEvent(db, event.id))!);
  });

  router.get('/stats', takesParams('window'), async (ctx) => {
    ctx.body = await eventStats(db, windowParam(ctx.query.window));
  });

  router.post('/cleanup', takesParams(), async (ctx) => {
    const { olderThanDays } = await jsonBody(ctx, cleanupRequest);
    const payloadsDropped = await dropOldPayloads(db, olderThanDays);
    requestLog(ctx).info({ olderThanDays, payloadsDropped }, 'cleanup: dropped old payloads');
    ctx.body = { older_than_days: olderThanDays, payloads_dropped: payloadsDropped };
  });

  router.post('/reconcile', takesParams(), async (ctx) => {
    if (!deps.stripe) {
      throw new HttpError(409, 'not_configured', 'Reconcile reads Stripe\'s events API: set STRIPE_SECRET_KEY.');
    }
    try {
      const result = await reconcileEvents({ ...deps, stripe: deps.stripe, log: requestLog(ctx) });
      ctx.body = { listed: result.listed, started: result.started, checkpoint: result.checkpoint, failed_accounts: result.failedAccounts };
    } catch (err) {
      if (err instanceof IntakeError) throw new HttpError(503, 'unavailable', `Could not ${err.step}; run reconcile again.`);
      if (err instanceof Stripe.errors.StripeError) {
        throw new HttpError(502, 'stripe_unavailable', `Stripe's events API failed: ${err.message}`);
      }
      throw err;
    }
  });

  router.get('/payments', takesParams('invoice', 'customer', 'limit', 'cursor'), async (ctx) => {
    const limit = limitParam(ctx.query.limit);
    const payments = await listPayments(db, {
      invoice: textParam(ctx.query.invoice, 'invoice'),
      customer: textParam(ctx.query.customer, 'customer'),
      afterId: cursorParam(ctx.query.cursor),
      limit,
    });
    ctx.body = {
      data: payments.map((payment) => ({
        id: payment.id,
        invoice_id: payment.invoice_id,
        customer_id: payment.customer_id,
        amount: payment.amount,
        currency: payment.currency,
        paid_at: payment.paid_at,
        charge_id: payment.charge_id,
        payment_intent_id: payment.payment_intent_id,
        payment_method: payment.payment_method,
        documents: payment.documents,
      })),
      next_cursor: payments.length === limit ? String(payments[payments.length - 1].id) : null,
    };
  });

  router.get('/documents', takesParams('kind', 'year', 'account', 'limit', 'cursor'), async (ctx) => {
    const limit = limitParam(ctx.query.limit);
    const series = { ...documentSeriesParams(ctx.query.kind, ctx.query.year), account: oneBooksParam(ctx.query.account).connectedAccount };
    const entries = await documentRegister(db, series, cursorParam(ctx.query.cursor), limit);
    ctx.body = { data: entries, next_cursor: entries.length === limit ? String(entries[entries.length - 1].sequence) : null };
  });

  router.get('/documents/:number', takesParams(), async (ctx) => {
    const document = await getDocument(db, ctx.params.number);
    if (!document) throw new HttpError(404, 'not_found', `No document ${ctx.params.number}.`);
    ctx.type = 'application/pdf';
    ctx.set('Content-Disposition', `inline; filename="${document.number}.pdf"`);
    ctx.body = document.pdf;
  });

  router.get('/customers/:id', takesParams(), async (ctx) => {
    const customer = await customerView(db, ctx.params.id);
    if (!customer) throw new HttpError(404, 'not_found', `No customer ${ctx.params.id}.`);
    ctx.body = customer;
  });

  router.get('/ledger/balance', takesParams('account'), async (ctx) => {
    ctx.body = await trialBalance(db, booksParam(ctx.query.account));
  });

  router.get('/invoices/:id/ledger', takesParams(), async (ctx) => {
    const invoiceId = ctx.params.id;
    const payment = await paymentOfInvoice(db, invoiceId);
    const chargeId = payment?.charge_id ?? null;
    const chargeReferences = await referencesOfPayingCharges(db, payment ? await chargesPaying(db, payment) : []);
    const position = await invoicePosition(db, invoiceId, chargeReferences);
    if (!position) throw new HttpError(404, 'not_found', `No ledger entries for invoice ${invoiceId}.`);
    const entries = await entriesAbout(db, [invoiceId, ...chargeReferences]);
    ctx.body = { invoice_id: invoiceId, charge_id: chargeId, position, entries };
  });

  addFinanceRoutes(router, deps);

  return router;
}
