import { isCalendarDay } from '../../workflows/contracts';
import type { Middleware, ParameterizedContext } from 'koa';
import getRawBody from 'raw-body';
import type { z } from 'zod';
import type { EventStatus } from '../store/events';
import { platformBooks, type Books } from '../store/ledger';
import { HttpError } from '../platform/http-error';

// Admin request parameters: each parser names the parameter in its 400 message.

/**
 * PostgreSQL text cannot hold the NUL character: an id or filter with one (`%00`) is refused
 * here with a 400 instead of failing its query with a 500.
 */
export const refuseNulCharacters: Middleware = async (ctx, next) => {
  const inQuery = Object.values(ctx.query).some((value) => [value].flat().some((item) => item?.includes('\0')));
  if (/%00/.test(ctx.path) || inQuery) {
    throw new HttpError(400, 'invalid_parameter', 'Parameters must not contain the NUL character (%00).');
  }
  await next();
};

/**
 * Refuses query parameters a route does not take, as Stripe's own API does: a misspelt or
 * unsupported filter (`?from=`, `?currency=`) must not quietly answer with everything.
 */
export function takesParams(...names: string[]): Middleware {
  return async (ctx, next) => {
    const unknown = Object.keys(ctx.query).find((name) => !names.includes(name));
    if (unknown !== undefined) {
      const takes = names.length > 0 ? `which takes only ${names.join(', ')}` : 'which takes none';
      throw new HttpError(400, 'invalid_parameter', `${unknown} is not a parameter of ${ctx.method} ${ctx.path}, ${takes}.`);
    }
    await next();
  };
}

export function limitParam(value: unknown): number {
  if (value === undefined) return 50;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw new HttpError(400, 'invalid_parameter', 'limit must be an integer from 1 to 100.');
  }
  return limit;
}

export function cursorParam(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) {
    throw new HttpError(400, 'invalid_parameter', 'cursor must be a next_cursor value from a previous page.');
  }
  return Number(value);
}

const eventStatuses: EventStatus[] = ['received', 'processing', 'processed', 'failed', 'ignored'];

export function statusParam(value: unknown): EventStatus | undefined {
  if (value === undefined) return undefined;
  if (!eventStatuses.includes(value as EventStatus)) {
    throw new HttpError(400, 'invalid_parameter', `status must be one of ${eventStatuses.join(', ')}.`);
  }
  return value as EventStatus;
}

const windowUnits = { m: 60, h: 3600, d: 86_400 } as const;

/** `24h`, `30m`, `7d`; at most 90 days. */
export function windowParam(value: unknown): number {
  if (value === undefined) return windowUnits.d;
  const match = typeof value === 'string' ? /^(\d{1,4})([mhd])$/.exec(value) : null;
  const seconds = match ? Number(match[1]) * windowUnits[match[2] as keyof typeof windowUnits] : 0;
  if (seconds < 60 || seconds > 90 * windowUnits.d) {
    throw new HttpError(400, 'invalid_parameter', 'window must be a duration like 30m, 24h or 7d (at most 90d).');
  }
  return seconds;
}

/** `?account=acct_…` for a connected account's books, `platform` for the platform's own; absent: all (the trial balance). */
export function booksParam(value: unknown): Books {
  if (value === undefined) return 'all';
  if (value === 'platform') return platformBooks;
  if (typeof value !== 'string' || !/^acct_[A-Za-z0-9]{1,64}$/.test(value)) {
    throw new HttpError(400, 'invalid_parameter', 'account must be a connected account id (acct_…) or platform.');
  }
  return { connectedAccount: value };
}

/**
 * One set of books, as Stripe keeps one balance per account: the platform's unless `?account=`
 * names a connected account. What finance imports or closes must never mix two businesses' books.
 */
export function oneBooksParam(value: unknown): { connectedAccount: string | null } {
  const books = booksParam(value);
  return books === 'all' ? platformBooks : books;
}

/** A small JSON body, validated; the message names what is wrong. */
export async function jsonBody<T>(ctx: ParameterizedContext, schema: z.ZodType<T>): Promise<T> {
  let value: unknown;
  try {
    value = JSON.parse((await getRawBody(ctx.req, { limit: 16 * 1024 })).toString('utf8') || '{}');
  } catch {
    throw new HttpError(400, 'invalid_body', 'The body must be a JSON object of at most 16 KiB.');
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`);
    throw new HttpError(400, 'invalid_body', problems.join('; '));
  }
  return result.data;
}

export function textParam(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (value === '') throw new HttpError(400, 'invalid_parameter', `${name} must not be empty.`);
  if (typeof value !== 'string') throw new HttpError(400, 'invalid_parameter', `${name} must be given once.`);
  return value;
}

/** `?month=YYYY-MM`: the month as [from, to) in UTC. */
export function monthParam(value: unknown): { month: string; from: Date; to: Date } {
  const match = typeof value === 'string' ? /^(\d{4})-(0[1-9]|1[0-2])$/.exec(value) : null;
  if (!match) throw new HttpError(400, 'invalid_parameter', 'month must be a month like 2026-11.');
  const [year, month] = [Number(match[1]), Number(match[2])];
  return { month: value as string, from: new Date(Date.UTC(year, month - 1, 1)), to: new Date(Date.UTC(year, month, 1)) };
}

/** `?from=YYYY-MM-DD&to=YYYY-MM-DD`, both days included (UTC), at most 366 days: the range as [from, to). */
export function dayRangeParams(from: unknown, to: unknown): { from: Date; to: Date } {
  const day = (value: unknown, name: string) => {
    if (typeof value !== 'string' || !isCalendarDay(value)) throw new HttpError(400, 'invalid_parameter', `${name} must be a day like 2026-11-30.`);
    return new Date(`${value}T00:00:00Z`);
  };
  const start = day(from, 'from');
  const end = new Date(day(to, 'to').getTime() + 24 * 3600 * 1000);
  if (end <= start) throw new HttpError(400, 'invalid_parameter', 'to must not be before from.');
  if (end.getTime() - start.getTime() > 366 * 24 * 3600 * 1000) throw new HttpError(400, 'invalid_parameter', 'from and to may be at most 366 days apart.');
  return { from: start, to: end };
}

const documentKinds = ['receipt', 'invoice', 'credit_note'] as const;

/** `?kind=` and `?year=` of a documents register: both needed, as each kind is numbered per year. */
export function documentSeriesParams(kind: unknown, year: unknown): { kind: (typeof documentKinds)[number]; year: number } {
  if (!documentKinds.includes(kind as (typeof documentKinds)[number])) {
    throw new HttpError(400, 'invalid_parameter', `kind must be one of ${documentKinds.join(', ')}: each is numbered in a series of its own.`);
  }
  if (typeof year !== 'string' || !/^\d{4}$/.test(year)) throw new HttpError(400, 'invalid_parameter', 'year must be a year like 2026: numbers start again each year.');
  return { kind: kind as (typeof documentKinds)[number], year: Number(year) };
}
