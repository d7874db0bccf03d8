import { createHash, timingSafeEqual } from 'node:crypto';
import type { Middleware } from 'koa';
import { HttpError } from '../platform/http-error';

/**
 * `Authorization: Bearer $ADMIN_API_KEY`. Without a configured key the admin API does not
 * exist (404), so a forgotten key never leaves it open.
 */
export function requireAdminKey(adminKey: string | undefined): Middleware {
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
