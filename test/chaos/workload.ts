import { randomBytes } from 'node:crypto';
import type { StripeEvent } from '../../src/platform/stripe-event';
import { chargeWithRefunds, paidInvoice } from '../support/billing-events';
import { stripeEvent, stripeObject } from '../support/stripe-events';

/** What the unique events must leave behind, counted independently of the service's code. */
export interface Expected {
  payments: number;
  documents: number;
  /** Receipts to customer and finance, plus the first dunning notice of each failed invoice. */
  emails: number;
  ledgerEntries: number;
  dunningNotices: number;
  /** Subscription id → the status of its newest event. */
  subscriptionStatus: Map<string, string>;
}

export interface Workload {
  unique: StripeEvent[];
  /** Every delivery in the order it is sent; `copies: 2` goes out twice at the same moment. */
  deliveries: { event: StripeEvent; copies: 1 | 2 }[];
  expected: Expected;
}

const statuses = ['active', 'past_due', 'active', 'trialing', 'unpaid', 'active'];

/** `billing`: the mix below; `paid-invoices`: every event pays an invoice (the heaviest kind). */
export type WorkloadMix = 'billing' | 'paid-invoices';

/**
 * `count` events: 40 % paid invoices (a tenth of them also as invoice.payment_succeeded),
 * 20 % failed payments, 20 % refunds, 20 % subscription updates over a small set of
 * subscriptions; `duplicateShare` of them delivered twice, half of those concurrently; all shuffled.
 */
export function buildWorkload(count: number, duplicateShare = 0.2, random = seededRandom(42), mix: WorkloadMix = 'billing'): Workload {
  const unique: StripeEvent[] = [];
  const expected: Expected = { payments: 0, documents: 0, emails: 0, ledgerEntries: 0, dunningNotices: 0, subscriptionStatus: new Map() };
  const subscriptions = Array.from({ length: Math.max(2, Math.round(count / 25)) }, () => `sub_chaos_${hex()}`);
  const newest = new Map<string, number>();
  const baseCreated = Math.floor(Date.now() / 1000) - 3600;

  while (unique.length < count) {
    const roll = mix === 'paid-invoices' ? 0 : random();
    if (roll < 0.4) {
      // Each payment has a charge and subscription of its own, as in Stripe (a shared one would
      // queue every payment behind one charge's ledger lock).
      const invoice = paidInvoice({ customerEmail: `payer-${hex()}@example.com`, chargeId: `ch_chaos_${hex()}`, subscriptionId: `sub_chaos_paid_${hex()}` });
      unique.push(stripeEvent('invoice.paid', invoice));
      if (random() < 0.1 && unique.length < count) unique.push(stripeEvent('invoice.payment_succeeded', invoice));
      expected.payments += 1;
      expected.documents += 2;
      expected.emails += 2;
      expected.ledgerEntries += 2; // recognition and settlement
    } else if (roll < 0.6) {
      unique.push(stripeEvent('invoice.payment_failed', paidInvoice({ status: 'open', customerEmail: `late-${hex()}@example.com` })));
      expected.dunningNotices += 1;
      expected.emails += 1;
    } else if (roll < 0.8) {
      const chargeId = `ch_chaos_${hex()}`;
      unique.push(stripeEvent('charge.refunded', chargeWithRefunds(chargeId, 5_000, [{ id: `re_chaos_${hex()}`, amount: 5_000 }])));
      expected.ledgerEntries += 1;
    } else {
      const id = subscriptions[Math.floor(random() * subscriptions.length)];
      const created = baseCreated + unique.length;
      const status = statuses[Math.floor(random() * statuses.length)];
      unique.push(
        stripeEvent('customer.subscription.updated', stripeObject('subscription', { id, customer: `cus_${id}`, status }), { created }),
      );
      if (created > (newest.get(id) ?? 0)) {
        newest.set(id, created);
        expected.subscriptionStatus.set(id, status);
      }
    }
  }

  const deliveries: Workload['deliveries'] = [];
  for (const event of unique) {
    const duplicated = random() < duplicateShare;
    const concurrently = duplicated && random() < 0.5;
    deliveries.push({ event, copies: concurrently ? 2 : 1 });
    // The other half arrive again later, somewhere else in the shuffled order.
    if (duplicated && !concurrently) deliveries.push({ event, copies: 1 });
  }
  shuffle(deliveries, random);
  return { unique, deliveries, expected };
}

function hex(): string {
  return randomBytes(6).toString('hex');
}

function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
}

/** mulberry32: the same mix and order for the same seed, so a failing run can be repeated. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
