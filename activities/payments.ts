import type { Config } from '../src/platform/config';
import type Stripe from 'stripe';
import type { Db } from '../src/platform/db';
import { documentsOfPayment, numberDocuments, storeDocumentPdfs } from '../src/store/documents';
import { idOf, type Json, type StripeEvent } from '../src/platform/stripe-event';
import { asAccount } from '../src/platform/stripe-client';
import type { Mailer } from '../src/platform/mailer';
import { sendOnceEach } from './outbox';
import { loadEventPayload } from '../src/store/events';
import { paymentOfInvoice, recordPayment, requirePayment, type Payment } from '../src/store/payments';
import { recordPaidPeriod } from '../src/store/subscriptions';
import { restoreAccessAfterPayment } from '../src/store/entitlements';
import { financeCopyEmail, paymentReceiptEmail } from './emails';
import { creditNotesApplied, finalizedAtOf, issuerNamesOf, readInvoice, readInvoiceOf, wherePaid, type InvoiceFacts } from '../src/platform/invoice';
import { renderDocument } from '../src/platform/pdf';
import { sellerOf } from './sellers';
import type { ActivityDependencies } from './dependencies';
import { withPaidOffStripe } from './paid-off-stripe';
import { customerAddressOf } from './customers';
import { withKeptPayments } from '../src/store/invoice-payments';

type Settings = Pick<Config, 'MAIL_FROM' | 'FINANCE_EMAIL' | 'SELLER_NAME' | 'SELLER_ADDRESS' | 'SELLER_EMAIL' | 'SELLER_TAX_ID' | 'SELLER_LOGO_PATH'>;

interface PaymentReference {
  chargeId: string | null;
  paymentIntentId: string | null;
  method: string | null;
  /** The invoice's payments, when Stripe was asked for them (the payload lists none). */
  listed?: Stripe.InvoicePayment[];
}

/**
 * The invoice with the payments Stripe listed for it, as newer API versions list them when asked
 * (webhook payloads leave them out): every part of an invoice paid in parts is then known, so a
 * refund of any part's charge finds the invoice by its payment intent.
 */
function withPayments(invoice: Json, listed: Stripe.InvoicePayment[] | undefined): Json {
  if (!listed || listed.length === 0 || invoice.payments) return invoice;
  return { ...invoice, payments: { object: 'list', data: listed, has_more: false } };
}

/** "VISA •••• 4242", or the bank and last 4 of a debit ("STRIPE TEST BANK •••• 6789"), from a charge's payment method details. */
function paymentMethodOf(charge: Json | null | undefined): string | null {
  const details = charge?.payment_method_details;
  const card = details?.card;
  if (card?.last4) return `${String(card.brand ?? 'card').toUpperCase()} •••• ${card.last4}`;
  const debit = details?.[details?.type];
  if (typeof debit?.last4 !== 'string') return null;
  const names: Record<string, string> = { sepa_debit: 'SEPA Direct Debit', us_bank_account: 'Bank account', bacs_debit: 'Bacs Direct Debit', au_becs_debit: 'BECS Direct Debit', acss_debit: 'Pre-authorized debit' };
  return `${debit.bank_name ?? names[details.type] ?? 'Bank account'} •••• ${debit.last4}`;
}

/**
 * What paid the invoice. Older API versions name the charge (sometimes expanded) on the
 * invoice; newer ones name nothing unless `payments` was included, and then, with a key,
 * Stripe's invoice payments say which payment intent paid it and its charge what paid.
 */
async function paymentReference(stripe: Stripe | undefined, invoice: InvoiceFacts, event: StripeEvent): Promise<PaymentReference> {
  const payload = event.data.object as Json;
  const known = { chargeId: invoice.chargeId, paymentIntentId: invoice.paymentIntentId, method: paymentMethodOf(payload.charge) };
  if (known.chargeId || known.paymentIntentId || !stripe) return known;
  const { data } = await stripe.invoicePayments.list({ invoice: invoice.id, limit: 10 }, asAccount(event.account));
  const paid = data.find((p) => p.status === 'paid') ?? data.find((p) => p.is_default) ?? data[0];
  const paymentIntentId = idOf(paid?.payment?.payment_intent);
  if (!paymentIntentId) return { ...known, chargeId: idOf(paid?.payment?.charge), listed: data };
  const intent = await stripe.paymentIntents.retrieve(paymentIntentId, { expand: ['latest_charge'] }, asAccount(event.account));
  const charge = typeof intent.latest_charge === 'object' ? intent.latest_charge : null;
  return { chargeId: idOf(intent.latest_charge), paymentIntentId, method: paymentMethodOf(charge), listed: data };
}

/**
 * Records the payment of a paid invoice; returns nothing when the invoice is not paid or billed
 * nothing. An invoice paid from the customer's credit balance or out of band (`amount_paid` 0)
 * is a payment too: it gets its documents.
 */
export async function recordInvoicePayment(db: Db, stripe: Stripe | undefined, given: StripeEvent): Promise<Payment | undefined> {
  const { id, status, total } = readInvoiceOf(given);
  if (status !== 'paid' || total <= 0) return undefined;
  // Stripe is asked only once: a payment already recorded keeps what it was recorded with (the
  // insert that follows finds its row and changes nothing).
  const asking = stripe && !(await paymentOfInvoice(db, id)) ? stripe : undefined;
  const { event, invoice } = await withKeptPaymentsWithoutKey(db, stripe, await withPaidOffStripe(asking, given));
  const reference = await paymentReference(asking, invoice, event);
  const invoiceObject = withPayments(await withAllLines(asking, event), reference.listed);
  return recordPayment(db, {
    invoice_id: invoice.id,
    invoice_number: invoice.number,
    customer_id: invoice.customerId,
    customer_email: invoice.customerEmail,
    customer_name: invoice.customerName,
    subscription_id: invoice.subscriptionId,
    charge_id: reference.chargeId,
    payment_intent_id: reference.paymentIntentId,
    payment_method: reference.method,
    account: event.account ?? null,
    amount: invoice.amountPaid,
    currency: invoice.currency,
    paid_at: new Date((invoice.paidAt ?? event.created) * 1000),
    invoice: invoiceObject,
    source_event_id: event.id,
  });
}

/**
 * Without a key, a payload that names nothing that paid the invoice (newer API versions) takes
 * what `invoice_payment.paid` announced, so the payment row and its receipt name the payment
 * intent. With a key Stripe is asked instead, which also says what card paid.
 */
async function withKeptPaymentsWithoutKey(db: Db, stripe: Stripe | undefined, event: StripeEvent): Promise<{ event: StripeEvent; invoice: InvoiceFacts }> {
  const invoice = readInvoiceOf(event);
  if (stripe || invoice.chargeId || invoice.paymentIntentId) return { event, invoice };
  const withKept = { ...event, data: { ...event.data, object: await withKeptPayments(db, event.data.object as Json) } };
  return { event: withKept, invoice: readInvoiceOf(withKept) };
}

/**
 * The invoice with every line. Stripe embeds only its first lines (`lines.has_more`); with a
 * key the rest are listed from Stripe once, before the payment is recorded, so that its
 * documents and paid period see them all. Without a key the documents show the lines the
 * event carries and one row for the rest.
 */
async function withAllLines(stripe: Stripe | undefined, event: StripeEvent): Promise<Json> {
  const invoice = event.data.object as Json;
  if (invoice.lines?.has_more !== true || !stripe) return invoice;
  const data = [];
  for await (const line of stripe.invoices.listLineItems(invoice.id, { limit: 100 }, asAccount(event.account))) data.push(line);
  return { ...invoice, lines: { ...invoice.lines, data, has_more: false, total_count: data.length } };
}

/** "Visa •••• 4242" when known, else the Stripe payment reference, else what settled an invoice that took no money. */
export function paymentMethodSummary(payment: Payment, invoice: InvoiceFacts): string {
  const card = payment.payment_method ?? paymentMethodOf(payment.invoice.charge);
  if (card) return card;
  const { throughStripe, outsideStripe } = wherePaid(invoice);
  if (outsideStripe > 0 && throughStripe === 0) return 'Paid outside Stripe';
  if (payment.payment_intent_id) return `Stripe payment ${payment.payment_intent_id}`;
  if (payment.charge_id) return `Stripe charge ${payment.charge_id}`;
  if (payment.amount !== 0) return 'Stripe';
  const byCreditNote = creditNotesApplied(invoice) > 0;
  if (byCreditNote && invoice.balanceApplied > 0) return 'Account credit and credit note';
  return byCreditNote ? 'Credit note' : 'Account credit';
}

export async function createPaymentDocuments({ db, stripe }: { db: Db; stripe?: Stripe }, settings: Settings, payment: Payment): Promise<string[]> {
  const invoice = readInvoice(payment.invoice);
  const seller = await sellerOf({ db, stripe }, settings, payment.account, invoice);
  const documents = await numberDocuments(db, payment.id, payment.paid_at.getUTCFullYear());
  const rendered = [];
  for (const { kind, number } of documents.filter((document) => !document.rendered)) {
    rendered.push({ number, pdf: await renderDocument({ kind, number, seller, invoice, paidAt: payment.paid_at, paymentMethod: paymentMethodSummary(payment, invoice) }) });
  }
  if (rendered.length > 0) await storeDocumentPdfs(db, rendered);
  return documents.map((document) => document.number);
}

/** The customer (when Stripe knows an email) and finance each get both documents, once. */
async function emailPaymentDocuments({ db, stripe }: { db: Db; stripe?: Stripe }, mailer: Mailer, settings: Settings, paymentId: number): Promise<void> {
  const payment = await requirePayment(db, paymentId);
  const documents = await documentsOfPayment(db, paymentId);
  if (documents.length < 2) throw new Error(`payment ${paymentId} has no documents yet`);
  const numbers = documents.map((document) => document.number);
  const attachments = documents.map((document) => ({
    filename: `${document.number}.pdf`,
    content: document.pdf,
    contentType: 'application/pdf',
  }));
  const issuer = issuerNamesOf(payment.invoice);
  const seller = await sellerOf({ db, stripe }, settings, payment.account, issuer);
  const customer = await customerAddressOf(
    { db, stripe },
    { email: payment.customer_email, customerId: payment.customer_id, account: payment.account, emailAsOf: finalizedAtOf(payment.invoice) },
    payment.source_event_id,
  );
  const recipients = [
    ...(customer ? [{ role: 'customer', to: customer, ...paymentReceiptEmail(payment, seller.name, numbers) }] : []),
    { role: 'finance', to: settings.FINANCE_EMAIL, ...financeCopyEmail(payment, numbers, seller.name, issuer.presentedAs, Boolean(customer)) },
  ];
  await sendOnceEach(db, mailer, settings.MAIL_FROM, `payment:${payment.id}:documents`, recipients, { attachments, eventId: payment.source_event_id });
}

/** Moves the subscription's paid-through date to the end of the period the invoice billed. */
export async function recordSubscriptionPeriod(db: Db, settings: Pick<Config, 'PLAN_ENTITLEMENTS'>, payment: Payment): Promise<void> {
  if (!payment.subscription_id) return;
  await restoreAccessAfterPayment(db, payment.subscription_id, settings.PLAN_ENTITLEMENTS);
  const periods = readInvoice(payment.invoice)
    .lines.map((line) => line.period)
    .filter((period): period is { start: number; end: number } => period !== null && period.end > period.start);
  if (periods.length === 0) return;
  await recordPaidPeriod(db, {
    subscriptionId: payment.subscription_id,
    customerId: payment.customer_id,
    account: payment.account,
    start: new Date(Math.min(...periods.map((p) => p.start)) * 1000),
    end: new Date(Math.max(...periods.map((p) => p.end)) * 1000),
  });
}

export function paymentActivities({ db, mailer, config, stripe }: ActivityDependencies) {
  return {
    /** The payment id, or null when the invoice carries no settled payment. */
    async recordInvoicePayment(eventId: string): Promise<number | null> {
      const payment = await recordInvoicePayment(db, stripe, await loadEventPayload(db, eventId));
      return payment?.id ?? null;
    },

    async createPaymentDocuments(paymentId: number): Promise<string[]> {
      return createPaymentDocuments({ db, stripe }, config, await requirePayment(db, paymentId));
    },

    async emailPaymentDocuments(paymentId: number): Promise<void> {
      await emailPaymentDocuments({ db, stripe }, mailer, config, paymentId);
    },

    async recordSubscriptionPeriod(paymentId: number): Promise<void> {
      await recordSubscriptionPeriod(db, config, await requirePayment(db, paymentId));
    },
  };
}
