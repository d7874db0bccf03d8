import type { Queryable } from '../src/platform/db';
import { fromStripeTime as at, type StripeEvent } from '../src/platform/stripe-event';
import { lockReference, netsOf, post, postedUnderKeys, transfer } from '../src/store/ledger';
import { keepFeeRefund, refundedFeesOn, type FeeRefund } from '../src/store/objects';

/**
 * What the platform refunds of an application fee goes back to the connected account that paid
 * it. On a direct charge that account's books hold the fee as `platform_fees` (from its charge's
 * balance transaction), which the refund reduces, up to what they hold for that charge. The
 * platform's refund and the account's charge come as events of two accounts, in either order:
 * each refund is kept (`application_fees`), and whichever of the two is booked second gives back
 * what the other allows, under a lock on the charge, once per cumulative amount.
 */

/** Keeps the fee's refund, then gives back what the account's books allow. */
export async function recordFeeRefund(tx: Queryable, event: StripeEvent, refund: FeeRefund): Promise<void> {
  await keepFeeRefund(tx, refund, event);
  await returnToPayer(tx, event, refund);
}

/** After a connected account's charge fee is booked: gives back what the platform already refunded of fees on that charge. */
export async function returnRefundedFeesOf(tx: Queryable, event: StripeEvent, chargeId: string): Promise<void> {
  if (!event.account) return;
  for (const refund of await refundedFeesOn(tx, chargeId, event.account)) await returnToPayer(tx, event, refund);
}

async function returnToPayer(tx: Queryable, event: StripeEvent, { feeId, payerAccount, chargeId, currency, refunded }: FeeRefund): Promise<void> {
  if (refunded === 0) return;
  await lockReference(tx, chargeId);
  const keys = `application_fee:${feeId}:returned-to-account-to:`;
  const back = Math.abs(await postedUnderKeys(tx, chargeId, `${keys}%`, 'platform_fees'));
  const paid = (await netsOf(tx, chargeId, currency))('platform_fees') + back;
  const target = Math.min(refunded, paid);
  if (target <= back) return;
  await post(tx, {
    sourceKey: `${keys}${target}`,
    kind: 'application_fee',
    reference: chargeId,
    description: `Application fee ${feeId} from ${payerAccount} on ${chargeId}: refunded by the platform up to ${target}`,
    occurredAt: at(event.created),
    eventId: event.id,
    connectedAccount: payerAccount,
    lines: transfer('stripe_balance', 'platform_fees', currency, target - back),
  });
}
