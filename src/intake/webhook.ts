import type { Client } from '@temporalio/client';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import getRawBody from 'raw-body';
import type { Config } from '../platform/config';
import type { Db } from '../platform/db';
import { IntakeError, sharedAcceptance } from './accept-event';
import { recordDelivery } from '../store/deliveries';
import { eventRefs, type StripeEvent } from '../platform/stripe-event';
import { HttpError, requestLog } from '../platform/http-error';
import { createAllowlist } from './ip-allowlist';
import type { Metrics } from '../platform/metrics';
import { FailureLimiter } from './rate-limit';
import { readSignatureHeader, SignatureError, verifySignedBody } from './signature';
import { clientAddress, limiterKey } from './client-address';

export interface WebhookDependencies {
  db: Db;
  temporal: Client;
  config: Config;
  log: Logger;
  metrics: Metrics;
}

export interface WebhookAnswer {
  received: true;
  eventId: string;
  duplicate: boolean;
}

/**
 * `POST /webhooks/stripe`. Answers 2xx only once the event row is in PostgreSQL and its
 * workflow exists; anything short of that is a 503 so that Stripe delivers again.
 */
export function stripeWebhook(deps: WebhookDependencies): Middleware {
  const { db, metrics, config } = deps;
  const allowed = config.WEBHOOK_IP_ALLOWLIST ? createAllowlist(config.WEBHOOK_IP_ALLOWLIST) : () => true;
  const forgers = new FailureLimiter(config.WEBHOOK_INVALID_SIGNATURE_LIMIT, 60_000);
  const acceptEvent = sharedAcceptance(deps);

  /**
   * A refused signature answers 400, or 429 once its address has sent too many: the limiter only
   * changes how forgeries are answered, never whether a correctly signed request is accepted
   * (behind a shared proxy address, or with a forged X-Forwarded-For, Stripe's own deliveries
   * would otherwise be held back).
   */
  function refuse(err: SignatureError, address: string): never {
    const key = limiterKey(address);
    const retryAfter = forgers.retryAfterSeconds(key);
    forgers.recordFailure(key);
    if (retryAfter > 0) {
      throw new HttpError(429, 'rate_limited', `Too many requests with invalid signatures from this address. ${err.message}`, {
        'Retry-After': String(retryAfter),
      });
    }
    throw new HttpError(400, err.code, err.message);
  }

  /** Cheap checks first (header, timestamp), before the body is read; then one hash per secret. */
  function checked<T>(address: string, check: () => T): T {
    try {
      return check();
    } catch (err) {
      if (err instanceof SignatureError) refuse(err, address);
      throw err;
    }
  }

  async function accept(rawBody: Buffer, log: Logger): Promise<WebhookAnswer> {
    // Only now, with the bytes proven to come from Stripe, is the body parsed.
    const event = parseEvent(rawBody);
    if (config.STRIPE_EXPECT_LIVEMODE !== undefined && event.livemode !== config.STRIPE_EXPECT_LIVEMODE) {
      throw new HttpError(
        400,
        'livemode_mismatch',
        `This endpoint only accepts ${config.STRIPE_EXPECT_LIVEMODE ? 'live' : 'test'} mode events.`,
      );
    }
    try {
      const accepted = await withinDeadline(acceptEvent(event), config.WEBHOOK_DEADLINE_MS);
      return { received: true, ...accepted };
    } catch (err) {
      if (!(err instanceof IntakeError)) throw err;
      log.warn({ eventId: event.id, err: { message: (err.cause as Error)?.message } }, `webhook: could not ${err.step}`);
      throw new HttpError(503, 'unavailable', `Could not ${err.step}; the event was not accepted. Deliver it again later.`);
    }
  }

  /** Refuses before reading the body: addresses outside the allowlist. */
  function admit(address: string): void {
    if (!allowed(address)) {
      throw new HttpError(403, 'address_not_allowed', 'This address may not post webhooks (WEBHOOK_IP_ALLOWLIST).');
    }
  }

  return async (ctx) => {
    const startedAt = process.hrtime.bigint();
    const log = requestLog(ctx);
    const address = clientAddress(ctx);
    let outcome = 'internal';
    let httpStatus = 500;
    let eventId: string | undefined;
    let verified = false;
    try {
      admit(address);
      const now = { toleranceSeconds: config.STRIPE_WEBHOOK_TOLERANCE_S, nowSeconds: Math.floor(Date.now() / 1000) };
      const signature = checked(address, () => readSignatureHeader(ctx.get('stripe-signature') || undefined, now));
      const rawBody = await readBody(ctx.req, ctx.get('content-length'), config.WEBHOOK_MAX_BYTES);
      checked(address, () => verifySignedBody(rawBody, signature, config.STRIPE_WEBHOOK_SECRET ?? []));
      verified = true;
      const answer = await accept(rawBody, log);
      eventId = answer.eventId;
      outcome = answer.duplicate ? 'duplicate' : 'accepted';
      httpStatus = ctx.status = 200;
      ctx.body = answer;
    } catch (err) {
      if (err instanceof HttpError) [outcome, httpStatus] = [err.code, err.status];
      throw err;
    } finally {
      const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
      metrics.webhookRequests.inc({ outcome });
      metrics.webhookAckSeconds.observe({ outcome }, seconds);
      log.info({ eventId, outcome, remoteAddr: address, ms: Math.round(seconds * 1000) }, 'webhook delivery');
      // Only deliveries proven to come from Stripe are kept: refusals are counted in metrics
      // (outcome label) and never write to the database. The log is written after the answer,
      // so neither a slow database nor the log itself delays what Stripe waits for.
      if (verified) {
        void recordDelivery(db, { remoteAddr: address, httpStatus, outcome, eventId }).catch((err: Error) =>
          log.warn({ err: { message: err.message } }, 'webhook: could not write the delivery log'),
        );
      }
    }
  };
}

/**
 * The acceptance, or an IntakeError once the deadline passes: a stalled PostgreSQL or Temporal
 * gets Stripe a 503 in time (it delivers again) instead of a hung request. Whatever the late
 * acceptance still does is harmless: the redelivery finds the event a duplicate.
 */
async function withinDeadline<T>(work: Promise<T>, deadlineMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new IntakeError('accept the event in time', new Error(`no answer within ${deadlineMs} ms`))), deadlineMs);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

async function readBody(req: NodeJS.ReadableStream, contentLength: string, limit: number): Promise<Buffer> {
  try {
    return await getRawBody(req as never, { limit, length: contentLength || undefined });
  } catch (err) {
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') {
      // The rest is not read: the answer says to close the connection, and Node closes it once
      // the answer is written, instead of draining whatever the client keeps sending.
      throw new HttpError(413, 'payload_too_large', `The body exceeds the limit of ${limit} bytes.`, { Connection: 'close' });
    }
    throw new HttpError(400, 'payload_malformed', 'The request body could not be read.');
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * What the event's row and its workflow's start can hold. Stripe's ids and event types are at
 * most 255 characters and hold no NUL character. Anything else would get as far as the start,
 * which Temporal refuses (an id or a search attribute over its limits), or the row's insert,
 * which PostgreSQL refuses (NUL in text, a time past its range), the one written and the other
 * not: such a delivery is refused here, before either.
 */
const maxIdLength = 255;
/** 9999-12-31T23:59:59Z, the last second the row's timestamp (and a JavaScript Date) holds here. */
const lastStoredSecond = 253_402_300_799;
const isStorableText = (value: unknown): value is string => typeof value === 'string' && value.length <= maxIdLength && !value.includes('\u0000');
const idPatterns = { evt: /^evt_\w+$/, acct: /^acct_\w+$/ };
const isStripeId = (value: unknown, kind: keyof typeof idPatterns): boolean => isStorableText(value) && idPatterns[kind].test(value);

/** Why a parsed body is not a Stripe event this service can store; none when it is one. */
function eventProblems(value: any): string[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return ['the body is not a JSON object'];
  const problems: string[] = [];
  const limits = `at most ${maxIdLength} characters, no NUL`;
  if (!isStripeId(value.id, 'evt')) problems.push(`\`id\` is not an event id (evt_…, ${limits})`);
  if (value.object !== undefined && value.object !== 'event') problems.push('`object` is not "event"');
  if (typeof value.type !== 'string' || value.type === '') problems.push('`type` is missing');
  else if (!isStorableText(value.type)) problems.push(`\`type\` is not an event type (${limits})`);
  if (value.api_version != null && !isStorableText(value.api_version)) problems.push(`\`api_version\` is not an API version (${limits})`);
  if (value.account != null && !isStripeId(value.account, 'acct')) problems.push(`\`account\` is not an account id (acct_…, ${limits})`);
  if (!Number.isInteger(value.created) || value.created < 0 || value.created > lastStoredSecond) problems.push('`created` is not a Unix timestamp');
  if (typeof value.livemode !== 'boolean') problems.push('`livemode` is not a boolean');
  if (!value.data || typeof value.data.object !== 'object' || value.data.object === null) problems.push('`data.object` is missing');
  else {
    for (const [ref, id] of Object.entries(eventRefs(value))) {
      if (id !== null && !isStorableText(id)) problems.push(`the ${ref.replace(/Id$/, '')} id it names is not a Stripe id (${limits})`);
    }
  }
  return problems;
}

function parseEvent(rawBody: Buffer): StripeEvent {
  let value: unknown;
  try {
    // Stripe sends UTF-8; anything else is refused rather than read with replacement characters.
    value = JSON.parse(utf8.decode(rawBody));
  } catch {
    throw new HttpError(400, 'payload_malformed', 'The body is not valid UTF-8 JSON.');
  }
  const problems = eventProblems(value);
  if (problems.length > 0) {
    throw new HttpError(400, 'payload_malformed', `The body is not a Stripe event: ${problems.join('; ')}.`);
  }
  return value as StripeEvent;
}
