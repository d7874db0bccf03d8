import { retryQuickly, retryUntilDone } from './activity-proxies';
import type { ChargesPlaced } from './contracts';

/**
 * Started by an operator (`POST /admin/ledger/charges-not-booked/place`) once Stripe can be asked:
 * each charge listed as not booked becomes a sale or is linked to the invoice it pays, one by one,
 * each step in the history with its outcome. Stripe away is retried; Stripe refusing leaves the
 * charge listed, with the reason. A worker without a key places none and says so.
 */
export async function placeChargesNotBooked(): Promise<ChargesPlaced> {
  const { canAskStripe, chargeIds } = await retryQuickly.listChargesToPlace();
  const placements = [];
  for (const chargeId of chargeIds) placements.push(await retryUntilDone.placeChargeNotBooked(chargeId));
  return { canAskStripe, placements };
}
