import type { ParameterizedContext } from 'koa';
import type { Logger } from 'pino';

/** An error with the HTTP answer it deserves; everything else is a 500. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface RequestState {
  requestId: string;
  /** The process logger with this request's id on every line. */
  log: Logger;
}

export function requestLog(ctx: ParameterizedContext): Logger {
  return (ctx.state as RequestState).log;
}
