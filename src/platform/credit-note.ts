import { eventObjectReader } from '../../workflows/contracts';
import { linesOf, taxesOf, type InvoiceLine, type InvoiceTax } from './invoice';
import { isCurrencyCode } from './money';
import { idOf, type Json } from './stripe-event';

/**
 * A credit note split the way Stripe splits it: a part before payment (it lowers what the
 * invoice asks for) and a part after payment, which is refunded, given back out of band, or
 * credited to the customer's balance (what is left).
 */
export interface CreditNoteFacts {
  id: string;
  number: string | null;
  invoiceId: string;
  status: string | null;
  currency: string;
  created: number | null;
  /** Total credited, tax included. */
  amount: number;
  tax: number;
  prePayment: number;
  refunded: number;
  outOfBand: number;
  balanceCredit: number;
}

function amount(value: unknown, field: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw new Error(`${field} is not an amount`);
  return value as number;
}

function sumOf(items: unknown, pick: (item: Json) => unknown, field: string): number {
  return Array.isArray(items) ? items.reduce((total: number, item: Json) => total + amount(pick(item), field), 0) : 0;
}

export function readCreditNote(object: Json): CreditNoteFacts {
  if (object?.object !== 'credit_note' || typeof object.id !== 'string') throw new Error('data.object is not a credit note');
  const invoiceId = idOf(object.invoice);
  if (!invoiceId) throw new Error('credit_note.invoice is missing');
  if (!isCurrencyCode(object.currency)) throw new Error('credit_note.currency is not a currency code');
  const total = amount(object.amount ?? object.total, 'credit_note.amount');
  // Newer API versions list taxes in `total_taxes`, older ones in `tax_amounts`.
  const tax = Array.isArray(object.total_taxes)
    ? sumOf(object.total_taxes, (t) => t.amount, 'credit_note.total_taxes')
    : sumOf(object.tax_amounts, (t) => t.amount, 'credit_note.tax_amounts');
  const prePayment = Number.isSafeInteger(object.pre_payment_amount)
    ? amount(object.pre_payment_amount, 'credit_note.pre_payment_amount')
    : object.type === 'pre_payment'
      ? total
      : 0;
  const outOfBand = object.out_of_band_amount == null ? 0 : amount(object.out_of_band_amount, 'credit_note.out_of_band_amount');
  // Newer versions list the refunds with their amounts; older ones name one refund, and then
  // whatever was not credited to the balance was refunded.
  const refunded = Array.isArray(object.refunds)
    ? sumOf(object.refunds, (r) => r.amount_refunded, 'credit_note.refunds')
    : object.refund && !object.customer_balance_transaction
      ? total - prePayment - outOfBand
      : 0;
  const balanceCredit = total - prePayment - outOfBand - refunded;
  if (balanceCredit < 0) throw new Error('credit_note parts add up to more than its amount');
  if (tax > total) throw new Error('credit_note tax is more than its amount');
  return {
    id: object.id,
    number: object.number ?? null,
    invoiceId,
    status: object.status ?? null,
    currency: object.currency.toLowerCase(),
    created: Number.isSafeInteger(object.created) ? object.created : null,
    amount: total,
    tax,
    prePayment,
    refunded,
    outOfBand,
    balanceCredit,
  };
}

/** The credit note an event is about; a payload that is not one fails the event as invalid. */
export const readCreditNoteOf = eventObjectReader(readCreditNote);

/**
 * The note's tax on what it credits other than by refund (before payment, to the balance, out of
 * band), in proportion; its refund part has the rest of the note's tax.
 */
export function taxOfCredited(note: Pick<CreditNoteFacts, 'amount' | 'tax' | 'refunded'>): number {
  return note.amount === 0 ? 0 : Math.round((note.tax * (note.amount - note.refunded)) / note.amount);
}

/** What a credit note's document shows beyond its amounts. */
export interface CreditNoteDetails extends CreditNoteFacts {
  customerId: string | null;
  /** Unix seconds: when it takes effect (`effective_at`), else when it was created. */
  issuedAt: number | null;
  reason: string | null;
  memo: string | null;
  lines: InvoiceLine[];
  /** The amount of the lines the payload leaves out (Stripe embeds the first ones only). */
  omittedLines: number | null;
  taxes: InvoiceTax[];
}

const reasons: Record<string, string> = {
  duplicate: 'Duplicate charge',
  fraudulent: 'Fraudulent charge',
  order_change: 'Order change',
  product_unsatisfactory: 'Product unsatisfactory',
};

export function readCreditNoteDetails(object: Json): CreditNoteDetails {
  const facts = readCreditNote(object);
  const lines = linesOf(object);
  const taxes = taxesOf({ total_taxes: object.total_taxes, total_tax_amounts: object.tax_amounts });
  const listed = lines.reduce((total, line) => total + line.amount, 0);
  const exclusiveTax = taxes.filter((tax) => !tax.inclusive).reduce((total, tax) => total + tax.amount, 0);
  // Without a subtotal, what the lines come to is what the note credits before exclusive tax (discounts included).
  const omitted = (Number.isSafeInteger(object.subtotal) ? object.subtotal : facts.amount - exclusiveTax) - listed;
  const issuedAt = Number.isSafeInteger(object.effective_at) ? object.effective_at : facts.created;
  return {
    ...facts,
    customerId: idOf(object.customer),
    issuedAt,
    reason: typeof object.reason === 'string' ? (reasons[object.reason] ?? object.reason) : null,
    memo: typeof object.memo === 'string' && object.memo.trim() !== '' ? object.memo : null,
    lines,
    omittedLines: omitted === 0 ? null : omitted,
    taxes,
  };
}

/** The credit note an event is about, with what its document shows. */
export const readCreditNoteDetailsOf = eventObjectReader(readCreditNoteDetails);
