import Stripe from 'stripe';
import { withTransaction } from '../src/platform/db';
import { readInvoicePayment, type InvoicePaymentFacts } from '../src/platform/invoice';
import { asAccount, isStripeRefusal } from '../src/platform/stripe-client';
import { chargeNotBooked, chargesNotBooked, type ChargeNotBooked } from '../src/store/charges-not-booked';
import { chargesPlacedPerRun, type ChargePlacement } from '../workflows/contracts';
import { postSale } from './charge-ledger';
import type { ActivityDependencies } from './dependencies';
import { linkInvoicePayment } from './ledger';

/**
 * Charges listed as not booked (a newer API version's charge, received while no key was set) are
 * placed once Stripe can be asked, as the charge event would have placed them with a key: an
 * invoice payment of its payment intent links it to that invoice (its refunds then take their tax
 * share), none makes it a sale of its own. Each booking has its key (the sale's, the invoice
 * payment's), so placing a charge twice, or at once with its invoice payment's event, books once.
 */

type Asked = { invoicePayment: InvoicePaymentFacts | null } | { cannotSay: string };

/** The invoice payment Stripe lists for the charge's payment intent, or why Stripe cannot say. */
async function askStripe(stripe: Stripe, listed: ChargeNotBooked): Promise<Asked> {
  let listedPayment: Stripe.InvoicePayment | undefined;
  try {
    const { data } = await stripe.invoicePayments.list(
      { payment: { type: 'payment_intent', payment_intent: listed.paymentIntentId! }, limit: 1 },
      asAccount(listed.account),
    );
    listedPayment = data[0];
  } catch (err) {
    // A key that is wrong or may not read invoices, an account gone: asking again will not help.
    if (isStripeRefusal(err) || err instanceof Stripe.errors.StripeAuthenticationError) return { cannotSay: `Stripe refused: ${err.message}` };
    throw err;
  }
  if (!listedPayment) return { invoicePayment: null };
  // The answer is about the payment intent asked for, whether or not it names it (expanded, or left out).
  const paidWith = { ...listedPayment.payment, payment_intent: listedPayment.payment?.payment_intent ?? listed.paymentIntentId };
  try {
    return { invoicePayment: readInvoicePayment({ ...listedPayment, payment: paidWith }) };
  } catch (err) {
    return { cannotSay: `Stripe's answer cannot be read: ${(err as Error).message}` };
  }
}

async function placeCharge({ db, stripe }: Pick<ActivityDependencies, 'db' | 'stripe'>, chargeId: string): Promise<ChargePlacement> {
  const listed = await chargeNotBooked(db, chargeId);
  if (!listed) return { charge: chargeId, outcome: 'already_placed' };
  if (!stripe) return { charge: chargeId, outcome: 'left', reason: 'STRIPE_SECRET_KEY is not set on the worker' };
  const source = { eventId: listed.sourceEventId, connectedAccount: listed.account };
  const asked: Asked = listed.paymentIntentId ? await askStripe(stripe, listed) : { invoicePayment: null };
  if ('cannotSay' in asked) return { charge: chargeId, outcome: 'left', reason: asked.cannotSay };
  if (asked.invoicePayment) {
    await linkInvoicePayment(db, asked.invoicePayment, source);
    return { charge: chargeId, outcome: 'invoice_payment', invoice: asked.invoicePayment.invoiceId };
  }
  const sale = { chargeId, paymentIntentId: listed.paymentIntentId, currency: listed.currency, amount: listed.amount, capturedAt: listed.since };
  // An invoice payment naming the payment intent may have been kept since Stripe answered.
  const booked = await withTransaction(db, (tx) => postSale(tx, sale, source));
  return { charge: chargeId, outcome: booked === 'sale' ? 'sale' : 'already_placed' };
}

export function chargePlacingActivities(deps: ActivityDependencies) {
  return {
    /** The oldest listed charges, as many as one placing run takes, and whether this worker can ask Stripe about them. */
    async listChargesToPlace(): Promise<{ canAskStripe: boolean; chargeIds: string[] }> {
      if (!deps.stripe) return { canAskStripe: false, chargeIds: [] };
      return { canAskStripe: true, chargeIds: (await chargesNotBooked(deps.db, undefined, chargesPlacedPerRun)).map((charge) => charge.chargeId) };
    },

    /** A listed charge booked as a sale or linked to the invoice it pays, as Stripe says; left listed when Stripe cannot say. */
    async placeChargeNotBooked(chargeId: string): Promise<ChargePlacement> {
      return placeCharge(deps, chargeId);
    },
  };
}
