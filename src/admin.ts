import { timingSafeEqual, createHash } from 'node:crypto';
import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { Config } from './config';
import { customerView } from './customers';
import type { Db } from './db';
import { getDocument } from './documents';
import { HttpError } from './http-errors';
import { trialBalance } from './ledger';
import { listPayments } from './payments';

export interface AdminDependencies {
  db: Db;
  config: Pick<Config, 'ADMIN_API_KEY'>;
}

/**
 * `Authorization: Bearer $ADMIN_API_KEY`. Without a configured key the admin API does not
 * exist (404), so a forgotten key never leaves it open.
 */
function requireAdminKey(adminKey: string | undefined): Middleware {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return async (ctx, next) => {
    if (!adminKey) throw new HttpError(404, 'not_found', 'Not found.');
    const given = /^Bearer (.+)$/.exec(ctx.get('authorization'))?.[1] ?? '';
    // Equal-length digests make the comparison constant-time whatever was sent.
    if (!timingSafeEqual(digest(given), digest(adminKey))) {
      throw new HttpError(401, 'unauthorized', 'A valid admin API key is required (Authorization: Bearer …).');
    }
    await next();
  };
}

function limitParam(value: unknown): number {
  if (value === undefined) return 50;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw new HttpError(400, 'invalid_parameter', 'limit must be an integer from 1 to 100.');
  }
  return limit;
}

function cursorParam(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) {
    throw new HttpError(400, 'invalid_parameter', 'cursor must be a next_cursor value from a previous page.');
  }
  return Number(value);
}

function textParam(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new HttpError(400, 'invalid_parameter', `${name} must be a single value.`);
  return value;
}

export function createAdminRouter({ db, config }: AdminDependencies): Router {
  const router = new Router({ prefix: '/admin' });
  router.use(requireAdminKey(config.ADMIN_API_KEY));

  router.get('/payments', async (ctx) => {
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
        documents: payment.documents,
      })),
      next_cursor: payments.length === limit ? String(payments[payments.length - 1].id) : null,
    };
  });

  router.get('/documents/:number', async (ctx) => {
    const document = await getDocument(db, ctx.params.number);
    if (!document) throw new HttpError(404, 'not_found', `No document ${ctx.params.number}.`);
    ctx.type = 'application/pdf';
    ctx.set('Content-Disposition', `inline; filename="${document.number}.pdf"`);
    ctx.body = document.pdf;
  });

  router.get('/customers/:id', async (ctx) => {
    const customer = await customerView(db, ctx.params.id);
    if (!customer) throw new HttpError(404, 'not_found', `No customer ${ctx.params.id}.`);
    ctx.body = customer;
  });

  router.get('/ledger/balance', async (ctx) => {
    ctx.body = await trialBalance(db);
  });

  return router;
}
