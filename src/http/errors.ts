import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { HttpError, requestLog, type RequestState } from '../platform/http-error';

/**
 * Gives every request an id (the caller's `X-Request-Id` when it is a plain token, else a new
 * one), echoes it, and logs the request with it: admin calls at info as an audit trail, the rest
 * at debug.
 */
export function requestContext(log: Logger): Middleware {
  return async (ctx, next) => {
    const given = ctx.get('x-request-id');
    const requestId = /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    const state = ctx.state as RequestState;
    state.requestId = requestId;
    state.log = log.child({ requestId });
    ctx.set('X-Request-Id', requestId);
    const startedAt = Date.now();
    try {
      await next();
    } finally {
      const level = ctx.path.startsWith('/admin') ? 'info' : 'debug';
      state.log[level]({ method: ctx.method, path: ctx.path, status: ctx.status, ms: Date.now() - startedAt }, 'request');
    }
  };
}

/** The one place errors become HTTP answers: `{"error":{"code","message"}}`. */
export function errorResponses(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (err instanceof HttpError) {
        ctx.status = err.status;
        ctx.set(err.headers);
        ctx.body = { error: { code: err.code, message: err.message } };
        return;
      }
      requestLog(ctx).error({ err, path: ctx.path }, 'request failed');
      ctx.status = 500;
      ctx.body = { error: { code: 'internal', message: 'Internal error; see the server log.' } };
    }
  };
}
