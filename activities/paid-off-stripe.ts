import { log } from '@temporalio/activity';
import type Stripe from 'stripe';
import { asAccount, isStripeRefusal } from '../src/platform/stripe-client';
import type { Json, StripeEvent } from '../src/platform/stripe-event';

/**
 * The invoice event with what of `amount_paid` was paid outside Stripe. Stripe computes
 * `amount_paid_off_stripe` (from payment records) only when a request asks for it and leaves it
 * out of event payloads, so with a key an invoice with something paid is retrieved with it. Without
 * a key, with a payload of an API version that says `paid_out_of_band` instead, or when Stripe
 * refuses the request, the payload stays as it is: all of `amount_paid` counts as through Stripe.
 */
export async function withPaidOffStripe(stripe: Stripe | undefined, event: StripeEvent): Promise<StripeEvent> {
  const invoice = event.data.object as Json;
  const asks = stripe && invoice.object === 'invoice' && typeof invoice.id === 'string' && Number.isSafeInteger(invoice.amount_paid) && invoice.amount_paid > 0;
  if (!asks || 'amount_paid_off_stripe' in invoice || 'paid_out_of_band' in invoice) return event;
  try {
    const retrieved = await stripe.invoices.retrieve(invoice.id, { expand: ['amount_paid_off_stripe'] }, asAccount(event.account));
    const paidOffStripe = (retrieved as unknown as Json).amount_paid_off_stripe;
    if (paidOffStripe === undefined || paidOffStripe === null) return event;
    // Stripe answers for the invoice as it is now, maybe paid further since the event. What was paid
    // outside Stripe only grows, so taking at most the event's amount never books more outside
    // Stripe than the invoice ends with; a later event's booking moves the rest where it belongs.
    const part = Number.isSafeInteger(paidOffStripe) ? Math.min(paidOffStripe, invoice.amount_paid) : paidOffStripe;
    return { ...event, data: { ...event.data, object: { ...invoice, amount_paid_off_stripe: part } } };
  } catch (err) {
    if (!isStripeRefusal(err)) throw err;
    log.warn('invoice booked as paid through Stripe: Stripe refused to say what of it was paid outside Stripe', { invoiceId: invoice.id, error: err.message });
    return event;
  }
}
