import { randomBytes } from 'node:crypto';
import { stripeObject } from './stripe-events';

const now = () => Math.floor(Date.now() / 1000);
const suffix = () => randomBytes(6).toString('hex');

export interface InvoiceOptions {
  /** `old`: subscription / charge / payment_intent / tax on the invoice; `new`: parent, payments, total_taxes. */
  shape?: 'old' | 'new';
  id?: string;
  currency?: string;
  subtotal?: number;
  discount?: number;
  tax?: number;
  customerEmail?: string | null;
  status?: string;
  /** Unix seconds of the billed period; the line has none when omitted. */
  period?: { start: number; end: number };
  /** The charge that paid it (default `ch_test_1`, shared by invoices that do not care). */
  chargeId?: string;
  /** The subscription it bills (default `sub_test_1`, shared by invoices that do not care). */
  subscriptionId?: string;
}

/** A paid invoice, built on Stripe's sample invoice, in the shape of an old or new API version. */
export function paidInvoice(options: InvoiceOptions = {}): Record<string, any> {
  const id = options.id ?? `in_test_${suffix()}`;
  const currency = options.currency ?? 'usd';
  const subtotal = options.subtotal ?? 10_000;
  const discount = options.discount ?? 0;
  const tax = options.tax ?? 0;
  const total = subtotal - discount + tax;
  const paidAt = now();
  const common = {
    id,
    number: `ACME-${suffix().slice(0, 4).toUpperCase()}-0001`,
    status: options.status ?? 'paid',
    currency,
    customer: 'cus_test_paying',
    customer_email: options.customerEmail === undefined ? 'ada@example.com' : options.customerEmail,
    customer_name: 'Ada Lovelace',
    subtotal,
    total,
    amount_due: total,
    amount_paid: options.status && options.status !== 'paid' ? 0 : total,
    amount_remaining: options.status && options.status !== 'paid' ? total : 0,
    amount_overpaid: 0,
    total_discount_amounts: discount ? [{ amount: discount, discount: 'di_test' }] : [],
    hosted_invoice_url: `https://invoice.stripe.com/i/${id}`,
    status_transitions: { finalized_at: paidAt - 60, paid_at: paidAt, marked_uncollectible_at: null, voided_at: null },
    lines: {
      object: 'list',
      has_more: false,
      data: [
        {
          id: `il_${suffix()}`,
          object: 'line_item',
          amount: subtotal,
          currency,
          description: 'Pro plan (monthly)',
          quantity: 1,
          ...(options.period ? { period: options.period } : {}),
        },
      ],
    },
  };
  const invoice = stripeObject('invoice', common);
  if ((options.shape ?? 'new') === 'old') {
    delete invoice.parent;
    delete invoice.total_taxes;
    return { ...invoice, subscription: options.subscriptionId ?? 'sub_test_1', charge: options.chargeId ?? 'ch_test_1', payment_intent: 'pi_test_1', tax, total_tax_amounts: [{ amount: tax }] };
  }
  return {
    ...invoice,
    parent: { type: 'subscription_details', subscription_details: { subscription: options.subscriptionId ?? 'sub_test_1', metadata: {} } },
    total_taxes: tax ? [{ amount: tax, tax_behavior: 'exclusive', taxability_reason: 'standard_rated' }] : [],
    payments: {
      object: 'list',
      has_more: false,
      data: [
        invoicePayment({
          invoiceId: id,
          amount: total,
          currency,
          paymentIntentId: options.chargeId ? `pi_for_${options.chargeId}` : 'pi_test_1',
          chargeId: options.chargeId ?? 'ch_test_1',
        }),
      ],
    },
  };
}

export interface InvoicePaymentOptions {
  invoiceId: string;
  amount: number;
  currency?: string;
  /** What paid: a payment intent (with its charge, as a listing names it when the charge is on it) or, without one, a charge. */
  paymentIntentId?: string;
  chargeId?: string;
}

/** A paid part of an invoice, as an invoice's `payments` list and `invoice_payment.paid` carry it. */
export function invoicePayment(options: InvoicePaymentOptions): Record<string, any> {
  const payment = options.paymentIntentId
    ? { type: 'payment_intent', payment_intent: options.paymentIntentId, ...(options.chargeId ? { charge: options.chargeId } : {}) }
    : { type: 'charge', charge: options.chargeId };
  return {
    ...stripeObject('invoice_payment'),
    id: `inpay_${suffix()}`,
    invoice: options.invoiceId,
    amount_paid: options.amount,
    amount_requested: options.amount,
    currency: options.currency ?? 'usd',
    status: 'paid',
    is_default: true,
    payment,
    status_transitions: { canceled_at: null, paid_at: now() },
  };
}

export function chargeWithRefunds(chargeId: string, amount: number, refunds: { id: string; amount: number }[]) {
  return stripeObject('charge', {
    id: chargeId,
    amount,
    currency: 'usd',
    refunded: refunds.reduce((sum, r) => sum + r.amount, 0) === amount,
    amount_refunded: refunds.reduce((sum, r) => sum + r.amount, 0),
    refunds: {
      object: 'list',
      has_more: false,
      data: refunds.map((r) => ({ id: r.id, object: 'refund', amount: r.amount, currency: 'usd', status: 'succeeded', charge: chargeId, created: now() })),
    },
  });
}

export function dispute(id: string, amount: number, status: string) {
  return stripeObject('dispute', { id, amount, currency: 'usd', status, charge: 'ch_test_disputed' });
}

export interface CreditNoteOptions {
  invoiceId: string;
  amount: number;
  tax?: number;
  /** Where the credit goes: before payment it lowers the invoice; after, it is refunded or credited. */
  to: 'invoice' | 'balance' | 'refund' | 'out_of_band';
  status?: 'issued' | 'void';
  /** Default `cus_test_paying`, the customer of `paidInvoice`. */
  customerId?: string;
}

/** A credit note in the shape of a newer API version (`pre_payment_amount`, `refunds` list, `total_taxes`). */
export function creditNote(options: CreditNoteOptions): Record<string, any> {
  const { amount, to } = options;
  const tax = options.tax ?? 0;
  return stripeObject('credit_note', {
    id: `cn_test_${suffix()}`,
    number: `ACME-CN-${suffix().slice(0, 4).toUpperCase()}`,
    invoice: options.invoiceId,
    customer: options.customerId ?? 'cus_test_paying',
    currency: 'usd',
    created: now(),
    effective_at: now(),
    amount,
    total: amount,
    subtotal: amount - tax,
    lines: {
      object: 'list',
      has_more: false,
      data: [{ id: `cnli_${suffix()}`, object: 'credit_note_line_item', type: 'invoice_line_item', description: 'Pro plan (monthly)', quantity: 1, unit_amount: null, amount: amount - tax }],
    },
    status: options.status ?? 'issued',
    type: to === 'invoice' ? 'pre_payment' : 'post_payment',
    pre_payment_amount: to === 'invoice' ? amount : 0,
    post_payment_amount: to === 'invoice' ? 0 : amount,
    out_of_band_amount: to === 'out_of_band' ? amount : null,
    customer_balance_transaction: to === 'balance' ? `cbtxn_${suffix()}` : null,
    refunds: to === 'refund' ? [{ refund: `re_${suffix()}`, amount_refunded: amount, type: 'refund' }] : [],
    total_taxes: tax ? [{ amount: tax, tax_behavior: 'exclusive', taxability_reason: 'standard_rated' }] : [],
  });
}

/** A dispute carrying the balance transactions Stripe lists once funds move (negative: withdrawn). */
export function disputeWithFunds(id: string, amount: number, status: string, movements: number[], chargeId = 'ch_test_disputed') {
  return stripeObject('dispute', {
    id,
    amount,
    currency: 'usd',
    status,
    charge: chargeId,
    balance_transactions: movements.map((movement) =>
      stripeObject('balance_transaction', { id: `txn_${suffix()}`, amount: movement, currency: 'usd', reporting_category: movement < 0 ? 'dispute' : 'dispute_reversal' }),
    ),
  });
}

/** A refund object as `charge.refund.updated` carries it. */
export function refund(id: string, chargeId: string, amount: number, status: string) {
  return stripeObject('refund', { id, charge: chargeId, amount, currency: 'usd', status });
}

export interface ChargeOptions {
  amount: number;
  /** What was captured (default: all of it). */
  captured?: number;
  paymentIntent?: string | null;
  /** The invoice it pays, as API versions before 2025-03-31 say (null: none); left out as newer ones do. */
  invoice?: string | null;
}

/** A succeeded, captured charge. */
export function capturedCharge(options: ChargeOptions): Record<string, any> {
  const { invoice, ...rest } = options;
  return stripeObject('charge', {
    id: `ch_test_${suffix()}`,
    amount: rest.amount,
    amount_captured: rest.captured ?? rest.amount,
    captured: true,
    status: 'succeeded',
    currency: 'usd',
    payment_intent: rest.paymentIntent === undefined ? `pi_test_${suffix()}` : rest.paymentIntent,
    ...(invoice === undefined ? {} : { invoice }),
  });
}

export interface BalanceTransactionOptions {
  source: string;
  /** In the settlement currency: positive into the Stripe balance, negative out of it. */
  amount: number;
  fee: number;
  currency?: string;
  exchangeRate?: number;
  type?: string;
  created?: number;
}

/** A balance transaction as Stripe reports what reached the balance: the amount, Stripe's fee, the net. */
export function balanceTransaction(options: BalanceTransactionOptions): Record<string, any> {
  return stripeObject('balance_transaction', {
    id: `txn_test_${suffix()}`,
    source: options.source,
    amount: options.amount,
    fee: options.fee,
    net: options.amount - options.fee,
    currency: options.currency ?? 'usd',
    exchange_rate: options.exchangeRate ?? null,
    fee_details: options.fee ? [{ amount: options.fee, currency: options.currency ?? 'usd', type: 'stripe_fee', description: 'Stripe processing fees' }] : [],
    type: options.type ?? 'charge',
    reporting_category: options.type ?? 'charge',
    created: options.created ?? now(),
  });
}

/** A payout of the Stripe balance to the bank, in one of its statuses. */
export function payout(id: string, amount: number, status: string, currency = 'usd') {
  return stripeObject('payout', { id, amount, currency, status, balance_transaction: `txn_test_${suffix()}`, failure_balance_transaction: null });
}

/** A top-up of the Stripe balance from the bank, in one of its statuses. */
export function topup(id: string, amount: number, status: string, currency = 'usd') {
  return stripeObject('topup', { id, amount, currency, status, balance_transaction: status === 'canceled' ? null : `txn_test_${suffix()}` });
}

/** An early fraud warning about a charge, as Radar reports one. */
export function earlyFraudWarning(chargeId: string, options: { fraudType?: string; actionable?: boolean } = {}) {
  return stripeObject('radar.early_fraud_warning', { id: `issfr_test_${suffix()}`, charge: chargeId, fraud_type: options.fraudType ?? 'made_with_stolen_card', actionable: options.actionable ?? true });
}

/** A connected account of Stripe's sample shape, as its `account.updated` event describes it. */
export function connectedAccount(id: string, name: string): Record<string, any> {
  const sample = stripeObject('account');
  return stripeObject('account', {
    id,
    country: 'DE',
    business_profile: {
      ...sample.business_profile,
      name,
      support_email: `support@${id}.example`,
      support_address: { line1: '9 Market Lane', line2: null, postal_code: '10115', city: 'Berlin', state: null, country: 'DE' },
    },
  });
}

export interface ConnectMoneyOptions {
  amount: number;
  /** What went back, one amount per fee refund or transfer reversal. */
  returned?: number[];
  currency?: string;
  /** The balance transaction: an id, the object itself, or none (the default). */
  balanceTransaction?: string | Record<string, any> | null;
}

/** How Stripe names the parts of an application fee and of a transfer, which have the same shape. */
const connectMoneyNames = {
  application_fee: { id: 'fee', returnedObject: 'fee_refund', returnedId: 'fr', returned: 'amount_refunded', done: 'refunded', list: 'refunds', path: 'application_fees', parent: 'fee', counterparty: 'account', source: 'charge' },
  transfer: { id: 'tr', returnedObject: 'transfer_reversal', returnedId: 'trr', returned: 'amount_reversed', done: 'reversed', list: 'reversals', path: 'transfers', parent: 'transfer', counterparty: 'destination', source: 'source_transaction' },
} as const;

function connectMoney(object: keyof typeof connectMoneyNames, options: ConnectMoneyOptions): Record<string, any> {
  const names = connectMoneyNames[object];
  const id = `${names.id}_test_${suffix()}`;
  const currency = options.currency ?? 'usd';
  const amounts = options.returned ?? [];
  const returned = amounts.reduce((sum, amount) => sum + amount, 0);
  const items = amounts.map((amount) => stripeObject(names.returnedObject, { id: `${names.returnedId}_test_${suffix()}`, amount, currency, [names.parent]: id, balance_transaction: null }));
  return stripeObject(object, {
    id,
    amount: options.amount,
    [names.returned]: returned,
    [names.done]: returned === options.amount,
    currency,
    [names.counterparty]: 'acct_testSeller',
    [names.source]: `ch_test_${suffix()}`,
    balance_transaction: options.balanceTransaction ?? null,
    [names.list]: { object: 'list', data: items, has_more: false, url: `/v1/${names.path}/${id}/${names.list}` },
  });
}

/** An application fee a connected account paid the platform on one of its charges, with its refunds. */
export const applicationFee = (options: ConnectMoneyOptions) => connectMoney('application_fee', options);

/** A transfer from the platform to a connected account (a destination charge's), with its reversals. */
export const connectTransfer = (options: ConnectMoneyOptions) => connectMoney('transfer', options);
