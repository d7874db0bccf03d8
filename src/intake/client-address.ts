import { isIP } from 'node:net';
import type { Context } from 'koa';

/** An IP address as the allowlist and the limiter read it: a dual-stack socket's `::ffff:a.b.c.d` as IPv4. */
export function normalizeAddress(address: string): string | undefined {
  const unmapped = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  return isIP(unmapped) ? unmapped.toLowerCase() : undefined;
}

/**
 * The client's address. Behind TRUST_PROXY=N proxies it is the N-th address from the right of
 * X-Forwarded-For (Koa's `maxIpsCount`): the one the outermost trusted proxy saw; whatever the
 * client wrote to the left of it is ignored. Anything there that is not an IP address is not
 * believed either: the socket's own peer is used.
 */
export function clientAddress(ctx: Pick<Context, 'ip' | 'socket'>): string {
  return normalizeAddress(ctx.ip) ?? normalizeAddress(ctx.socket.remoteAddress ?? '') ?? 'unknown';
}

/**
 * What the forger limiter counts by: an IPv4 address, or the /64 of an IPv6 address (one
 * subscriber's whole range, which it can rotate through at will). Always a short, bounded key.
 */
export function limiterKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const [head, tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
