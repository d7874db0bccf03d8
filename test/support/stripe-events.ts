import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import fixtures from '../fixtures/stripe/fixtures.json';
import type { StripeEvent } from '../../src/platform/stripe-event';

export const testSecret = 'whsec_test_primary_0123456789abcdef';
export const rotatedSecret = 'whsec_test_rotated_0123456789abcdef';

const stripe = new Stripe('sk_test_unused');

type ResourceName = keyof typeof fixtures.resources;

/** A deep copy of Stripe's sample object for a resource, with fields overridden. */
export function stripeObject(resource: ResourceName, overrides: Record<string, unknown> = {}): Record<string, any> {
  return { ...structuredClone(fixtures.resources[resource]), ...overrides };
}

export function newEventId(): string {
  return `evt_test_${randomBytes(8).toString('hex')}`;
}

/** An event as Stripe would post it, around the given object. */
export function stripeEvent(type: string, object: Record<string, unknown>, overrides: Partial<StripeEvent> = {}): StripeEvent {
  return {
    ...structuredClone(fixtures.resources.event),
    id: newEventId(),
    type,
    api_version: '2024-06-20',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    data: { object },
    ...overrides,
  } as StripeEvent;
}

export function signatureHeader(payload: string, options: { secret?: string; timestamp?: number } = {}): string {
  return stripe.webhooks.generateTestHeaderString({
    payload,
    secret: options.secret ?? testSecret,
    timestamp: options.timestamp ?? Math.floor(Date.now() / 1000),
  });
}

export interface Delivery {
  status: number;
  body: any;
  /** Only on 429 answers. */
  retryAfter?: string;
}

/** Posts a body to the webhook endpoint, signed unless a header is given. */
export async function deliver(
  baseUrl: string,
  event: StripeEvent | string,
  options: { secret?: string; timestamp?: number; header?: string | null; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Delivery> {
  const payload = typeof event === 'string' ? event : JSON.stringify(event);
  const header = options.header === undefined ? signatureHeader(payload, options) : options.header;
  const response = await fetch(`${baseUrl}/webhooks/stripe`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(header === null ? {} : { 'stripe-signature': header }),
      ...options.headers,
    },
    body: payload,
    signal: options.signal,
  });
  return { status: response.status, body: await response.json(), retryAfter: response.headers.get('retry-after') ?? undefined };
}
