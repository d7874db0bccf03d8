import Stripe from 'stripe';
import type { Config } from './config';

/** The Stripe API client, or undefined when no key is configured (features needing it say so). */
export function createStripeClient(config: Pick<Config, 'STRIPE_SECRET_KEY' | 'STRIPE_API_BASE'>): Stripe | undefined {
  if (!config.STRIPE_SECRET_KEY) return undefined;
  const base = config.STRIPE_API_BASE ? new URL(config.STRIPE_API_BASE) : undefined;
  return new Stripe(config.STRIPE_SECRET_KEY, {
    // Two tries of 10 s stay below the 30 s activity that makes the call (the SDK's own defaults,
    // 80 s and two retries, would outlive it); the activity's retry policy does the rest.
    timeout: 10_000,
    maxNetworkRetries: 1,
    ...(base && {
      host: base.hostname,
      port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)),
      protocol: base.protocol.replace(':', '') as 'http' | 'https',
    }),
  });
}

/** A connected account's objects are read through the platform's key with `Stripe-Account`. */
export function asAccount(connectedAccount: string | null | undefined): Stripe.RequestOptions | undefined {
  return connectedAccount ? { stripeAccount: connectedAccount } : undefined;
}

/**
 * Stripe said no to the request itself (it names an object the key cannot see or that does not
 * exist, an account that disconnected from the platform, a change the object's state does not
 * allow): the same request will be refused again, so it is not retried. Stripe away, slow or
 * rate-limiting is not a refusal; nor is a 409 (a concurrent request held the object's lock).
 */
export function isStripeRefusal(err: unknown): err is Stripe.errors.StripeError {
  if (err instanceof Stripe.errors.StripePermissionError) return true;
  return err instanceof Stripe.errors.StripeInvalidRequestError && err.statusCode !== 409;
}

/**
 * Stripe's answer, or undefined when Stripe refused the request (`isStripeRefusal`, handed to
 * `refused`); any other failure is thrown, so the step that asked is retried.
 */
export async function unlessRefused<T>(request: Promise<T>, refused: (err: Stripe.errors.StripeError) => void = () => undefined): Promise<T | undefined> {
  try {
    return await request;
  } catch (err) {
    if (!isStripeRefusal(err)) throw err;
    refused(err);
    return undefined;
  }
}
