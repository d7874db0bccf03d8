import type { Middleware } from 'koa';
import type { Logger } from 'pino';

/** An error with the HTTP answer it deserves; everything else is a 500. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The one place errors become HTTP answers: `{"error":{"code","message"}}`. */
export function errorResponses(log: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (err instanceof HttpError) {
        ctx.status = err.status;
        ctx.body = { error: { code: err.code, message: err.message } };
        return;
      }
      log.error({ err, path: ctx.path }, 'request failed');
      ctx.status = 500;
      ctx.body = { error: { code: 'internal', message: 'Internal error; see the server log.' } };
    }
  };
}
