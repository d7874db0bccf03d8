import Stripe from 'stripe';
import type { Config } from './config';

/** The Stripe API client, or undefined when no key is configured (features needing it say so). */
export function createStripeClient(config: Pick<Config, 'STRIPE_SECRET_KEY' | 'STRIPE_API_BASE'>): Stripe | undefined {
  if (!config.STRIPE_SECRET_KEY) return undefined;
  const base = config.STRIPE_API_BASE ? new URL(config.STRIPE_API_BASE) : undefined;
  return new Stripe(config.STRIPE_SECRET_KEY, {
    maxNetworkRetries: 2,
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
