import { eventObjectReader } from '../../workflows/contracts';
import { isCurrencyCode } from './money';
import { idOf, type Json } from './stripe-event';

/**
 * Reads an invoice by the shape it carries, not by one pinned API version: endpoints pinned to
 * older versions send `subscription`, `charge`, `payment_intent` and `tax` on the invoice;
 * newer ones send `parent.subscription_details`, `payments` and `total_taxes`.
 */

export interface InvoiceLine {
  description: string;
  quantity: number;
  /** The price of one unit in minor units, when the line says it (and it is whole). */
  unitAmount: number | null;
  amount: number;
  /** Unix seconds of the service period the line bills, when it has one. */
  period: { start: number; end: number } | null;
}

/** The business that issued an invoice as Stripe names it publicly (with Connect, the connected account), and its country. */
export interface IssuerNames {
  accountName: string | null;
  accountCountry: string | null;
  /**
   * The connected account a platform's invoice is presented as (`on_behalf_of`, or `issuer` of
   * type account): Stripe shows that account's details on its documents and emails, while the
   * money stays in the platform's books until it is transferred.
   */
  presentedAs: string | null;
}

/** An invoice's `issuer` (a subscription's `invoice_settings.issuer`) when it is an account, else `on_behalf_of`. */
function presentedAccountOf(object: Json): string | null {
  const issuer = object?.issuer ?? object?.invoice_settings?.issuer;
  return (issuer?.type === 'account' ? idOf(issuer.account) : null) ?? idOf(object?.on_behalf_of);
}

/**
 * When the invoice was finalized (Unix seconds), which is when its `customer_email` was copied
 * from the customer; read alone where that is all a step needs of a stored invoice.
 */
export function finalizedAtOf(object: Json | null): number | null {
  return object?.status_transitions?.finalized_at ?? null;
}

/** `account_name`, `account_country` and the account presented of an invoice (or of any object that carries them). */
export function issuerNamesOf(object: Json): IssuerNames {
  return {
    accountName: typeof object?.account_name === 'string' && object.account_name.trim() !== '' ? object.account_name : null,
    accountCountry: typeof object?.account_country === 'string' ? object.account_country : null,
    presentedAs: presentedAccountOf(object),
  };
}

export interface InvoiceFacts extends IssuerNames {
  id: string;
  number: string | null;
  status: string | null;
  customerId: string | null;
  customerEmail: string | null;
  customerName: string | null;
  subscriptionId: string | null;
  chargeId: string | null;
  paymentIntentId: string | null;
  /** Every charge that paid it: `chargeId`, or several when it was paid in parts (newer API versions list each payment). */
  chargeIds: string[];
  /** How many payments paid it, as listed (a part paid by a payment intent names no charge there). */
  partsPaid: number;
  /** The payment intents that paid it: `paymentIntentId`, and each part's. */
  paymentIntentIds: string[];
  currency: string;
  subtotal: number;
  discount: number;
  tax: number;
  /** The part of `tax` already inside the line amounts (inclusive tax rates). */
  taxInclusive: number;
  total: number;
  amountDue: number;
  /** Everything paid, through Stripe or not, including an overpayment. */
  amountPaid: number;
  amountRemaining: number;
  /** The part of `amountPaid` beyond what was due, which Stripe credits to the customer's balance (`amount_overpaid`). */
  amountOverpaid: number;
  /** The part of `amountPaid` paid outside Stripe, e.g. recorded as a payment record (`amount_paid_off_stripe`, newer API versions). */
  amountPaidOffStripe: number;
  /**
   * How much of the invoice the customer's balance took at finalization (`ending_balance` −
   * `starting_balance`): credit used, or (negative) a debt the balance added to the invoice, or
   * an amount below the minimum charge moved to the balance. 0 before finalization.
   */
  balanceApplied: number;
  /** Paid outside Stripe (marked paid by hand): no cash passed through the Stripe balance. */
  paidOutOfBand: boolean;
  paidAt: number | null;
  finalizedAt: number | null;
  hostedInvoiceUrl: string | null;
  /** When the invoice took effect (Unix seconds): `effective_at`, else finalized, else created. */
  issuedAt: number | null;
  dueDate: number | null;
  /** The customer's billing address as printable lines, and tax ids (`EU VAT DE123456789`). */
  customerAddress: string[];
  customerTaxIds: string[];
  /** Tax per rate, as the invoice lists it. */
  taxes: InvoiceTax[];
  lines: InvoiceLine[];
  /**
   * The lines the payload leaves out: Stripe embeds only an invoice's first lines (`has_more`).
   * Their number when the list says it, and their amount, taken as what separates the lines
   * shown from `subtotal`, so that the documents still add up to Stripe's figures.
   */
  omittedLines: { count: number | null; amount: number } | null;
}

export interface InvoiceTax {
  /** `VAT (20%)` when the rate is known (expanded, or from the taxable amount), else `Tax`. */
  label: string;
  amount: number;
  inclusive: boolean;
}


function integer(value: unknown, field: string): number {
  if (!Number.isSafeInteger(value)) throw new InvoicePayloadError(`${field} is not an integer amount`);
  return value as number;
}

/** A share of `amount_paid` that newer API versions report (absent before them: none). */
function partOfPaid(object: Json, field: 'amount_overpaid' | 'amount_paid_off_stripe', amountPaid: number): number {
  const part = integer(object[field] ?? 0, `invoice.${field}`);
  if (part < 0 || part > amountPaid) throw new InvoicePayloadError(`invoice.${field} (${part}) is not a part of invoice.amount_paid (${amountPaid})`);
  return part;
}

export class InvoicePayloadError extends Error {}

function sum(items: unknown, pick: (item: Json) => unknown): number {
  return Array.isArray(items) ? items.reduce((total, item) => total + (Number(pick(item)) || 0), 0) : 0;
}

/** The payment that settled the invoice: `invoice.payments` (new) or `charge` / `payment_intent` (old); and every charge that paid a part. */
function paymentOf(invoice: Json): Pick<InvoiceFacts, 'chargeId' | 'paymentIntentId' | 'chargeIds' | 'partsPaid' | 'paymentIntentIds'> {
  const payments: Json[] = Array.isArray(invoice.payments?.data) ? invoice.payments.data : [];
  const paid = payments.find((p) => p.status === 'paid') ?? payments.find((p) => p.is_default) ?? payments[0];
  const main = paid?.payment
    ? { chargeId: idOf(paid.payment.charge), paymentIntentId: idOf(paid.payment.payment_intent) }
    : { chargeId: idOf(invoice.charge), paymentIntentId: idOf(invoice.payment_intent) };
  const paidParts = payments.filter((p) => p.status === 'paid');
  const parts = paidParts.map((p) => idOf(p.payment?.charge));
  const known = (ids: (string | null)[]) => [...new Set(ids.filter((id): id is string => id !== null))];
  const chargeIds = known([main.chargeId, ...parts]);
  const paymentIntentIds = known([main.paymentIntentId, ...paidParts.map((p) => idOf(p.payment?.payment_intent))]);
  return { ...main, chargeIds, partsPaid: paidParts.length, paymentIntentIds };
}

/** A payment of (a part of) an invoice, as `invoice_payment.paid` carries it. */
export interface InvoicePaymentFacts {
  id: string;
  invoiceId: string;
  paymentIntentId: string | null;
  chargeId: string | null;
  /** The object itself, read as an entry of an invoice's `payments` list. */
  object: Json;
}

/** An invoice payment as Stripe lists it (or `invoice_payment.paid` carries it). */
export function readInvoicePayment(object: Json): InvoicePaymentFacts {
  if (object?.object !== 'invoice_payment' || typeof object.id !== 'string') throw new Error('data.object is not an invoice payment');
  const invoiceId = idOf(object.invoice);
  if (!invoiceId) throw new Error('invoice_payment.invoice is missing');
  // A part paid outside Stripe (`payment_record`) names neither.
  return { id: object.id, invoiceId, paymentIntentId: idOf(object.payment?.payment_intent), chargeId: idOf(object.payment?.charge), object };
}

/** Inclusive taxes: `tax_behavior: 'inclusive'` (newer) or `inclusive: true` (older). */
function inclusiveTaxOf(invoice: Json): number {
  const taxes = Array.isArray(invoice.total_taxes) ? invoice.total_taxes : invoice.total_tax_amounts;
  return sum(
    (taxes ?? []).filter((t: Json) => t.tax_behavior === 'inclusive' || t.inclusive === true),
    (t) => t.amount,
  );
}

function taxOf(invoice: Json): number {
  if (Array.isArray(invoice.total_taxes)) return sum(invoice.total_taxes, (t) => t.amount);
  if (Number.isSafeInteger(invoice.tax)) return invoice.tax;
  return sum(invoice.total_tax_amounts, (t) => t.amount);
}

/** The price of one unit: `price.unit_amount` (older), `pricing.unit_amount_decimal` (newer, a decimal string), `plan.amount`, a credit note line's `unit_amount`. */
function unitAmountOf(line: Json): number | null {
  const candidates = [line.price?.unit_amount, line.pricing?.unit_amount_decimal, line.pricing?.price_details?.unit_amount_decimal, line.plan?.amount, line.unit_amount];
  for (const candidate of candidates) {
    const value = typeof candidate === 'string' ? Number(candidate) : candidate;
    if (Number.isSafeInteger(value)) return value;
  }
  return null;
}

/** A printable percentage: 20, 8.875. */
const percent = (value: number) => `${Number(value.toFixed(3))}%`;

/** Tax per rate, from `total_taxes` (newer) or `total_tax_amounts` (older). */
export function taxesOf(invoice: Json): InvoiceTax[] {
  const newer = Array.isArray(invoice.total_taxes);
  const taxes: Json[] = (newer ? invoice.total_taxes : invoice.total_tax_amounts) ?? [];
  return taxes.map((tax) => {
    const inclusive = tax.tax_behavior === 'inclusive' || tax.inclusive === true;
    const rate = typeof tax.tax_rate === 'object' && tax.tax_rate ? tax.tax_rate : tax.tax_rate_details;
    const name = typeof rate?.display_name === 'string' ? rate.display_name : 'Tax';
    const percentage = Number.isFinite(rate?.percentage)
      ? rate.percentage
      : Number(tax.taxable_amount) > 0
        ? (Number(tax.amount) * 100) / Number(tax.taxable_amount)
        : null;
    return { label: percentage === null ? name : `${name} (${percent(percentage)})`, amount: Number(tax.amount) || 0, inclusive };
  });
}

/** A Stripe address as printable lines: street, `postal code city state`, country. */
export function addressLines(address: Json | null | undefined): string[] {
  if (!address) return [];
  const locality = [address.postal_code, address.city, address.state].filter(Boolean).join(' ');
  return [address.line1, address.line2, locality, address.country].filter((part): part is string => typeof part === 'string' && part.trim() !== '');
}

/** `eu_vat` → `EU VAT`. */
const taxIdLabel = (type: string) => type.replace(/_/g, ' ').toUpperCase();

/**
 * What was paid through Stripe's balance and what outside it: all of it when the invoice was
 * marked paid out of band (older API versions then leave `amount_paid` at 0: the amount due),
 * else the part newer versions report as paid off Stripe (payment records).
 */
export function wherePaid(invoice: Pick<InvoiceFacts, 'paidOutOfBand' | 'amountPaid' | 'amountDue' | 'amountPaidOffStripe'>): { throughStripe: number; outsideStripe: number } {
  if (invoice.paidOutOfBand) return { throughStripe: 0, outsideStripe: invoice.amountPaid || invoice.amountDue };
  return { throughStripe: invoice.amountPaid - invoice.amountPaidOffStripe, outsideStripe: invoice.amountPaidOffStripe };
}

/** What credit notes took off the invoice before it was paid: the part of the total that neither the customer's balance nor the amount due accounts for. */
export function creditNotesApplied(invoice: Pick<InvoiceFacts, 'total' | 'balanceApplied' | 'amountDue'>): number {
  return invoice.total - invoice.balanceApplied - invoice.amountDue;
}

/** Stripe's subscription lines already say `1 × Pro plan (at $49.00 / month)`: the quantity has its own column. */
function descriptionOf(line: Json): string {
  const description = typeof line.description === 'string' && line.description.trim() !== '' ? line.description : 'Item';
  const quantity = Number.isSafeInteger(line.quantity) ? line.quantity : 1;
  return description.replace(new RegExp(`^${quantity}\\s*[×x]\\s+`), '');
}

export function readInvoice(object: Json): InvoiceFacts {
  if (object?.object !== 'invoice' || typeof object.id !== 'string') {
    throw new InvoicePayloadError('data.object is not an invoice');
  }
  if (!isCurrencyCode(object.currency)) {
    throw new InvoicePayloadError('invoice.currency is not a currency code');
  }
  const total = integer(object.total, 'invoice.total');
  const amountPaid = integer(object.amount_paid ?? 0, 'invoice.amount_paid');
  const subtotal = Number.isSafeInteger(object.subtotal) ? object.subtotal : total;
  const lines = linesOf(object);
  return {
    id: object.id,
    number: object.number ?? null,
    status: object.status ?? null,
    customerId: idOf(object.customer),
    customerEmail: object.customer_email ?? null,
    customerName: object.customer_name ?? null,
    subscriptionId: idOf(object.subscription) ?? idOf(object.parent?.subscription_details?.subscription),
    ...paymentOf(object),
    currency: object.currency.toLowerCase(),
    subtotal,
    discount: sum(object.total_discount_amounts, (d) => d.amount),
    tax: taxOf(object),
    taxInclusive: inclusiveTaxOf(object),
    total,
    amountDue: integer(object.amount_due ?? total, 'invoice.amount_due'),
    amountPaid,
    amountRemaining: integer(object.amount_remaining ?? 0, 'invoice.amount_remaining'),
    amountOverpaid: partOfPaid(object, 'amount_overpaid', amountPaid),
    amountPaidOffStripe: partOfPaid(object, 'amount_paid_off_stripe', amountPaid),
    balanceApplied:
      object.ending_balance === null || object.ending_balance === undefined
        ? 0
        : integer(object.ending_balance, 'invoice.ending_balance') - integer(object.starting_balance ?? 0, 'invoice.starting_balance'),
    paidOutOfBand: object.paid_out_of_band === true,
    paidAt: object.status_transitions?.paid_at ?? null,
    finalizedAt: finalizedAtOf(object),
    hostedInvoiceUrl: object.hosted_invoice_url ?? null,
    issuedAt: object.effective_at ?? finalizedAtOf(object) ?? object.created ?? null,
    dueDate: object.due_date ?? null,
    ...issuerNamesOf(object),
    customerAddress: addressLines(object.customer_address),
    customerTaxIds: (Array.isArray(object.customer_tax_ids) ? object.customer_tax_ids : [])
      .filter((taxId: Json) => typeof taxId?.value === 'string')
      .map((taxId: Json) => `${taxIdLabel(String(taxId.type ?? 'tax id'))} ${taxId.value}`),
    taxes: taxesOf(object),
    lines,
    omittedLines: object.lines?.has_more === true ? omittedLinesOf(object.lines, lines, subtotal) : null,
  };
}

/** The lines a list embeds (an invoice's, or a credit note's). */
export function linesOf(object: Json): InvoiceLine[] {
  return (object.lines?.data ?? []).map((line: Json) => ({
    description: descriptionOf(line),
    quantity: line.quantity ?? 1,
    unitAmount: unitAmountOf(line),
    amount: integer(line.amount, 'invoice line amount'),
    period:
      Number.isInteger(line.period?.start) && Number.isInteger(line.period?.end)
        ? { start: line.period.start, end: line.period.end }
        : null,
  }));
}

function omittedLinesOf(list: Json, lines: InvoiceLine[], subtotal: number): NonNullable<InvoiceFacts['omittedLines']> {
  const count = Number.isSafeInteger(list.total_count) && list.total_count > lines.length ? list.total_count - lines.length : null;
  return { count, amount: subtotal - lines.reduce((sum, line) => sum + line.amount, 0) };
}

/** The invoice, or the invoice payment, an event is about; a payload that is not one fails the event as invalid. */
export const readInvoiceOf = eventObjectReader(readInvoice);
export const readInvoicePaymentOf = eventObjectReader(readInvoicePayment);
