import type Router from '@koa/router';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type Stripe from 'stripe';
import { chargesPlacedPerRun, WorkflowType, type ChargesPlaced } from '../../workflows/contracts';
import type { Config } from '../platform/config';
import type { Db } from '../platform/db';
import { placingExecutionSummary } from '../platform/execution-summary';
import { HttpError, requestLog } from '../platform/http-error';
import { closeReportCsv, journalCsv } from '../platform/finance-report';
import { balanceTransactionWaits } from '../store/balance-transactions';
import { chargeNotBookedView, closeReport } from '../store/finance';
import { chargesNotBooked, countChargesNotBooked } from '../store/charges-not-booked';
import { journalBetween } from '../store/ledger';
import { dayRangeParams, monthParam, oneBooksParam, takesParams } from './admin-params';
import { temporalUiUrl } from './admin-views';

/** How long placing's answer waits for its run; a longer run goes on and is answered 202. */
const placingAnswerWithinMs = 15_000;

/** A run's result, or undefined when it has not ended within `ms` (its wait for the server is abandoned then, the run goes on). */
async function resultWithin<T>(temporal: Client, run: WorkflowHandle, ms: number): Promise<T | undefined> {
  const waited = AbortSignal.timeout(ms);
  try {
    return (await temporal.withAbortSignal(waited, () => run.result())) as T;
  } catch (err) {
    if (waited.aborted) return undefined;
    throw err;
  }
}

interface FinanceDependencies {
  db: Db;
  stripe?: Stripe;
  temporal: Client;
  config: Pick<Config, 'TEMPORAL_TASK_QUEUE' | 'TEMPORAL_UI_URL' | 'TEMPORAL_NAMESPACE'>;
}

/**
 * The admin routes of finance: the month's close, the journal, what waits for its fee, the charges
 * not booked, and placing them.
 */
export function addFinanceRoutes(router: Router, { db, stripe, temporal, config }: FinanceDependencies): void {
  router.get('/reports/close', takesParams('month', 'account'), async (ctx) => {
    const period = monthParam(ctx.query.month);
    const report = await closeReport(db, stripe, period, oneBooksParam(ctx.query.account));
    if (ctx.accepts('json', 'text/csv') === 'text/csv') {
      ctx.type = 'text/csv';
      ctx.attachment(`close-${period.month}.csv`);
      ctx.body = closeReportCsv(report);
      return;
    }
    ctx.body = report;
  });

  router.get('/ledger/journal', takesParams('from', 'to', 'account'), async (ctx) => {
    const { from, to } = dayRangeParams(ctx.query.from, ctx.query.to);
    const books = oneBooksParam(ctx.query.account);
    const lines = await journalBetween(db, from, to, books);
    ctx.type = 'text/csv';
    ctx.attachment(`journal-${books.connectedAccount ? `${books.connectedAccount}-` : ''}${ctx.query.from}-${ctx.query.to}.csv`);
    ctx.body = journalCsv(lines);
  });

  router.get('/ledger/awaiting-fees', takesParams(), async (ctx) => {
    const waits = await balanceTransactionWaits(db);
    ctx.body = {
      data: waits.map((wait) => ({ source_id: wait.sourceId, balance_transaction_id: wait.balanceTransactionId, account: wait.account, currency: wait.currency, amount: wait.amount, since: wait.since })),
      next_cursor: null,
    };
  });

  router.get('/ledger/charges-not-booked', takesParams(), async (ctx) => {
    ctx.body = { data: (await chargesNotBooked(db)).map(chargeNotBookedView), next_cursor: null };
  });

  router.post('/ledger/charges-not-booked/place', takesParams(), async (ctx) => {
    const listed = await countChargesNotBooked(db);
    let run;
    try {
      run = await temporal.workflow.start(WorkflowType.placeChargesNotBooked, {
        ...placingExecutionSummary({ listed, perRun: chargesPlacedPerRun }),
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        workflowId: `place-charges-not-booked-${config.TEMPORAL_TASK_QUEUE}`,
        // A run already placing is joined, not doubled; an ended one is followed by a new one.
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        args: [],
      });
    } catch (err) {
      requestLog(ctx).warn({ err: { message: (err as Error).message } }, 'placing charges: could not start');
      throw new HttpError(503, 'unavailable', 'Temporal could not start the placing run; try again.');
    }
    const execution = { workflow_id: run.workflowId, run_id: run.firstExecutionRunId, temporal_ui_url: temporalUiUrl(run.workflowId, run.firstExecutionRunId, config) };
    const result = await resultWithin<ChargesPlaced>(temporal, run, placingAnswerWithinMs).catch((err) => {
      throw new HttpError(500, 'placing_failed', `The placing run ended without an answer (${(err as Error).message}); see it in the Web UI and ask again.`);
    });
    if (!result) {
      ctx.status = 202;
      ctx.body = { status: 'running', ...execution };
      return;
    }
    if (!result.canAskStripe) {
      throw new HttpError(409, 'not_configured', 'Placing asks Stripe whether each charge pays an invoice: set STRIPE_SECRET_KEY for the workers (a restricted key with Invoice payments: read is enough).');
    }
    requestLog(ctx).info({ placed: result.placements.filter((p) => p.outcome !== 'left').length, left: result.placements.filter((p) => p.outcome === 'left').length }, 'charges not booked placed');
    ctx.body = { status: 'done', ...execution, placements: result.placements, still_listed: await countChargesNotBooked(db) };
  });
}
