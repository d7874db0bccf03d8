import fc from 'fast-check';
import { applicationFee, connectTransfer } from './support/billing-events';
import { expectBalanced, movements } from './support/ledger';
import { deliverTwiceAndWait, startTestService, type TestService } from './support/service';
import { stripeEvent } from './support/stripe-events';
import type { StripeEvent } from '../src/platform/stripe-event';

/**
 * Random histories of application fees and transfers (created, then given back in parts), their
 * events delivered in a random order (one after another, or all at once), end in the books a model
 * computes from the histories alone: what was kept, net of everything given back.
 */

let service: TestService;

beforeAll(async () => {
  service = await startTestService();
});

afterAll(async () => {
  await service?.stop();
});

const kinds = {
  application_fee: { build: applicationFee, created: 'application_fee.created', returned: 'application_fee.refunded', list: 'refunds', total: 'amount_refunded', done: 'refunded', counterpart: 'application_fees', sign: 1 },
  transfer: { build: connectTransfer, created: 'transfer.created', returned: 'transfer.reversed', list: 'reversals', total: 'amount_reversed', done: 'reversed', counterpart: 'connected_account_transfers', sign: -1 },
} as const;

interface MovementSpec {
  kind: keyof typeof kinds;
  amount: number;
  /** Per mille of the amount each part given back takes (their sum capped at the whole amount). */
  parts: number[];
}

const movementSpec = fc.record({
  kind: fc.constantFrom(...(Object.keys(kinds) as (keyof typeof kinds)[])),
  amount: fc.integer({ min: 1, max: 100_000 }),
  parts: fc.array(fc.integer({ min: 1, max: 600 }), { maxLength: 3 }),
});

/** The parts given back in minor units, each at least 1, never more in all than the amount. */
function returnedParts({ amount, parts }: MovementSpec): number[] {
  const returned: number[] = [];
  let left = amount;
  for (const part of parts) {
    const taken = Math.min(left, Math.max(1, Math.floor((amount * part) / 1000)));
    if (taken === 0) break;
    returned.push(taken);
    left -= taken;
  }
  return returned;
}

/** The events of one history: its creation, then one event per part given back, each carrying every part so far. */
function historyOf(spec: MovementSpec): { id: string; events: StripeEvent[] } {
  const kind = kinds[spec.kind];
  const parts = returnedParts(spec);
  const whole = kind.build({ amount: spec.amount, returned: parts });
  const upTo = (n: number) => {
    const returned = parts.slice(0, n).reduce((sum, part) => sum + part, 0);
    return { ...whole, [kind.total]: returned, [kind.done]: returned === spec.amount, [kind.list]: { ...whole[kind.list], data: whole[kind.list].data.slice(0, n) } };
  };
  return {
    id: whole.id,
    events: [stripeEvent(kind.created, upTo(0)), ...parts.map((_, n) => stripeEvent(kind.returned, upTo(n + 1)))],
  };
}

/** What the platform kept of it, on the Stripe balance and on the counterpart account. */
function expectedBooks(spec: MovementSpec): Record<string, number> {
  const kind = kinds[spec.kind];
  const kept = spec.amount - returnedParts(spec).reduce((sum, part) => sum + part, 0);
  return kept === 0 ? {} : { stripe_balance: kind.sign * kept, [kind.counterpart]: -kind.sign * kept };
}

const connectRun = fc
  .array(movementSpec, { minLength: 1, maxLength: 5 })
  .chain((specs) => {
    const histories = specs.map(historyOf);
    const slots = histories.flatMap((history, movement) => history.events.map((_, step) => ({ movement, step })));
    return fc.record({
      specs: fc.constant(specs),
      histories: fc.constant(histories),
      order: fc.shuffledSubarray(slots, { minLength: slots.length, maxLength: slots.length }),
      atOnce: fc.boolean(),
    });
  });

test('when random fee and transfer histories are delivered in any order, then each ends with what the platform kept, and the trial balance is zero', async () => {
  await fc.assert(
    fc.asyncProperty(connectRun, async ({ specs, histories, order, atOnce }) => {
      const events = order.map(({ movement, step }) => histories[movement].events[step]);

      if (atOnce) await Promise.all(events.map((event) => deliverTwiceAndWait(service, event)));
      else for (const event of events) await deliverTwiceAndWait(service, event);

      for (const [n, spec] of specs.entries()) {
        expect({ spec, books: await movements(service, histories[n].id) }).toEqual({ spec, books: expectedBooks(spec) });
      }
      await expectBalanced(service);
    }),
    { numRuns: 8, endOnFailure: true },
  );
});
