import type Router from '@koa/router';
import type Stripe from 'stripe';
import type { Db } from '../platform/db';
import { closeReportCsv, journalCsv } from '../platform/finance-report';
import { balanceTransactionWaits } from '../store/balance-transactions';
import { chargeNotBookedView, closeReport } from '../store/finance';
import { chargesNotBooked } from '../store/charges-not-booked';
import { journalBetween } from '../store/ledger';
import { dayRangeParams, monthParam, oneBooksParam, takesParams } from './admin-params';

/** The admin routes finance reads: the month's close, the journal, what waits for its fee, charges not booked. */
export function addFinanceRoutes(router: Router, { db, stripe }: { db: Db; stripe?: Stripe }): void {
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
}
