import { createHash, timingSafeEqual } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Config } from '../platform/config';
import { HttpError } from '../platform/http-error';
import { clientAddress, limiterKey } from '../intake/client-address';
import { FailureLimiter } from '../intake/rate-limit';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Equal-length digests make each comparison constant-time whatever was sent; every key is compared. */
function matchesAny(given: string, keys: string[]): boolean {
  return keys.reduce((found, key) => timingSafeEqual(digest(given), digest(key)) || found, false);
}

const readMethods = new Set(['GET', 'HEAD']);

/**
 * `Authorization: Bearer <key>`: an ADMIN_API_KEY may do everything, an ADMIN_READ_API_KEY only
 * read. Without any configured key the admin API does not exist (404), so a forgotten key never
 * leaves it open. An address that sent too many wrong keys gets 429 until its minute ends,
 * before its key is even looked at, so guessing is throttled.
 */
export function requireAdminKey(config: Pick<Config, 'ADMIN_API_KEY' | 'ADMIN_READ_API_KEY' | 'ADMIN_AUTH_FAILURE_LIMIT'>): Middleware {
  const writeKeys = config.ADMIN_API_KEY ?? [];
  const readKeys = config.ADMIN_READ_API_KEY ?? [];
  const guessers = new FailureLimiter(config.ADMIN_AUTH_FAILURE_LIMIT, 60_000);
  return async (ctx, next) => {
    if (writeKeys.length + readKeys.length === 0) throw new HttpError(404, 'not_found', 'Not found.');
    const address = limiterKey(clientAddress(ctx));
    const retryAfter = guessers.retryAfterSeconds(address);
    if (retryAfter > 0) {
      throw new HttpError(429, 'rate_limited', 'Too many requests with a wrong admin key from this address.', { 'Retry-After': String(retryAfter) });
    }
    const given = /^Bearer (.+)$/.exec(ctx.get('authorization'))?.[1] ?? '';
    const mayWrite = matchesAny(given, writeKeys);
    if (!mayWrite && !matchesAny(given, readKeys)) {
      guessers.recordFailure(address);
      throw new HttpError(401, 'unauthorized', 'A valid admin API key is required (Authorization: Bearer …).');
    }
    if (!mayWrite && !readMethods.has(ctx.method)) {
      throw new HttpError(403, 'read_only_key', 'This key may only read (ADMIN_READ_API_KEY); changes need an ADMIN_API_KEY.');
    }
    await next();
  };
}
