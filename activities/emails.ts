import type { CreditNoteFacts } from '../src/platform/credit-note';
import { formatAmount } from '../src/platform/money';
import type { DayFigures } from '../src/store/finance';
import type { Payment } from '../src/store/payments';
import { utcMinute } from '../workflows/contracts';

/** The texts of the emails the product sends: plain text and a simple HTML version of it. */

export interface EmailText {
  subject: string;
  text: string;
  html: string;
}

function htmlOf(paragraphs: string[]): string {
  const escape = (value: string) =>
    value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return `<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">${paragraphs
    .map((p) => `<p>${escape(p).replace(/\n/g, '<br>')}</p>`)
    .join('')}</body></html>`;
}

function email(subject: string, paragraphs: string[]): EmailText {
  return { subject, text: paragraphs.join('\n\n'), html: htmlOf(paragraphs) };
}

export function paymentReceiptEmail(payment: Payment, sellerName: string, documents: string[]): EmailText {
  const amount = formatAmount(payment.amount, payment.currency);
  return email(`Your receipt from ${sellerName}: ${amount}`, [
    `Hello${payment.customer_name ? ` ${payment.customer_name}` : ''},`,
    `Thank you for your payment of ${amount} for invoice ${payment.invoice_number ?? payment.invoice_id}.`,
    `Your receipt and invoice are attached (${documents.join(', ')}).`,
    `${sellerName}`,
  ]);
}

/**
 * Finance's copy; a connected account's sale says whose it is, as it belongs in that account's
 * books, and a platform's invoice presented as a connected account (`on_behalf_of`) says so.
 */
export function financeCopyEmail(payment: Payment, documents: string[], sellerName: string, presentedAs: string | null, customerEmailed: boolean): EmailText {
  const amount = formatAmount(payment.amount, payment.currency);
  const receivedBy = payment.account ? ` by ${sellerName}` : presentedAs ? ` on behalf of ${sellerName}` : '';
  return email(`Payment received${receivedBy}: ${amount} from ${payment.customer_name ?? payment.customer_id ?? 'a customer'}`, [
    `Invoice ${payment.invoice_number ?? payment.invoice_id} was paid on ${payment.paid_at.toISOString().slice(0, 10)}.`,
    [
      `Amount: ${amount}`,
      `Customer: ${payment.customer_id ?? 'unknown'}${customerEmailed ? '' : ' (no email address known: the customer was not sent the documents)'}`,
      ...(payment.account ? [`Seller: ${sellerName}, connected account ${payment.account} (its own books)`] : []),
      ...(!payment.account && presentedAs ? [`Presented as: ${sellerName}, connected account ${presentedAs} (on behalf of it; the platform's books)`] : []),
      `Stripe invoice: ${payment.invoice_id}`,
      `Documents: ${documents.join(', ')}`,
    ].join('\n'),
  ]);
}

/** Where a credit note's amount went, one sentence each, in the customer's words. */
function creditNoteParts(note: CreditNoteFacts): string[] {
  const money = (amount: number) => formatAmount(amount, note.currency);
  return [
    ...(note.prePayment > 0 ? [`${money(note.prePayment)} was taken off what the invoice asks for.`] : []),
    ...(note.refunded > 0 ? [`${money(note.refunded)} was refunded to your payment method.`] : []),
    ...(note.balanceCredit > 0 ? [`${money(note.balanceCredit)} was added to your account balance, for your next invoices.`] : []),
    ...(note.outOfBand > 0 ? [`${money(note.outOfBand)} was given back to you outside Stripe.`] : []),
  ];
}

/** A credit note, to the customer it credits. */
export function creditNoteEmail(note: CreditNoteFacts, invoice: string, customerName: string | null, sellerName: string, document: string): EmailText {
  const amount = formatAmount(note.amount, note.currency);
  return email(`Your credit note from ${sellerName}: ${amount}`, [
    `Hello${customerName ? ` ${customerName}` : ''},`,
    [`We issued a credit note of ${amount} for invoice ${invoice}.`, ...creditNoteParts(note)].join(' '),
    `The credit note is attached (${document}).`,
    sellerName,
  ]);
}

/** Finance's copy of a credit note; a connected account's says whose books it belongs in. */
export function financeCreditNoteEmail(
  note: CreditNoteFacts,
  facts: {
    invoice: string;
    customer: string | null;
    account: string | null;
    sellerName: string;
    document: string;
    /** Why the customer was not sent the credit note, when they were not. */
    notSentToCustomer: 'no_email' | 'voided' | null;
  },
): EmailText {
  const amount = formatAmount(note.amount, note.currency);
  const money = (value: number) => formatAmount(value, note.currency);
  const parts: [string, number][] = [
    ['before payment', note.prePayment],
    ['refunded', note.refunded],
    ['to the customer balance', note.balanceCredit],
    ['outside Stripe', note.outOfBand],
  ];
  return email(`Credit note issued${facts.account ? ` by ${facts.sellerName}` : ''}: ${amount} on invoice ${facts.invoice}`, [
    `Credit note ${facts.document} (Stripe ${note.number ?? note.id}) credits ${amount} on invoice ${facts.invoice}.`,
    [
      `Amount: ${amount}${note.tax > 0 ? `, of which tax ${money(note.tax)}` : ''}`,
      `Credited: ${parts.filter(([, value]) => value > 0).map(([label, value]) => `${money(value)} ${label}`).join(', ') || 'nothing'}`,
      `Customer: ${facts.customer ?? 'unknown'}${facts.notSentToCustomer ? ` (${notSentReasons[facts.notSentToCustomer]})` : ''}`,
      ...(facts.account ? [`Seller: ${facts.sellerName}, connected account ${facts.account} (its own books)`] : []),
      `Stripe invoice: ${note.invoiceId}`,
      `Document: ${facts.document}`,
    ].join('\n'),
  ]);
}

const notSentReasons = {
  no_email: 'no email address known: the customer was not sent the credit note',
  voided: 'voided in Stripe before this document could be sent: the customer was not sent the credit note',
};

/** Finance told that a credit note whose document went out was voided. */
export function financeCreditNoteVoidedEmail(note: CreditNoteFacts, facts: { invoice: string; customer: string | null; document: string }): EmailText {
  const amount = formatAmount(note.amount, note.currency);
  return email(`Credit note voided: ${facts.document}, ${amount} on invoice ${facts.invoice}`, [
    `Credit note ${facts.document} (Stripe ${note.number ?? note.id}) of ${amount} on invoice ${facts.invoice} was voided in Stripe: it no longer credits anything, and the books reverse it.`,
    [`Customer: ${facts.customer ?? 'unknown'}`, `Stripe invoice: ${note.invoiceId}`, `Document: ${facts.document} (kept as issued)`].join('\n'),
  ]);
}

/** What our records say of a charge an alert is about (nothing when it predates the service). */
export interface ChargeFacts {
  id: string;
  /** Formatted with its currency. */
  amount: string | null;
  customerId: string | null;
  invoiceId: string | null;
  paymentIntentId: string | null;
}

/** The lines about the charge an alert is about, as the books know it. */
function chargeLines(charge: ChargeFacts): string[] {
  return [`Customer: ${charge.customerId ?? 'unknown'}`, `Invoice: ${charge.invoiceId ?? 'none known'}`];
}

/** Finance's alert of an early fraud warning: what the charge was, and what to decide. */
export function fraudWarningEmail(warning: { warningId: string; fraudType: string; charge: ChargeFacts; where: string }): EmailText {
  const { charge } = warning;
  return email(`Early fraud warning: charge ${charge.id}${charge.amount ? `, ${charge.amount}` : ''}`, [
    `The card issuer reported charge ${charge.id} as fraudulent (${warning.fraudType.replace(/_/g, ' ')}), before any dispute. A refund now costs the amount; a dispute later costs the amount, Stripe's dispute fee and a mark on the dispute rate.`,
    [`Amount: ${charge.amount ?? 'not in our records'}`, ...chargeLines(charge), `Warning: ${warning.warningId}`].join('\n'),
    `Decide whether to refund it (and to stop the customer's subscription), unless you know the payment is genuine. ${warning.where}`,
  ]);
}

/** Finance's alert of a dispute: opened (with the date an answer is due), still unanswered as that date nears, or how it ended. */
export function disputeEmail(dispute: { disputeId: string; stage: 'opened' | 'unanswered' | 'closed'; status: string; reason: string; amount: string; dueBy: Date | null; charge: ChargeFacts; where: string }): EmailText {
  const inquiry = dispute.status.startsWith('warning_');
  const what = inquiry ? 'Inquiry' : 'Dispute';
  const reason = dispute.reason.replace(/_/g, ' ');
  const facts = [`Amount: ${dispute.amount}`, `Reason: ${reason}`, ...chargeLines(dispute.charge), `Dispute: ${dispute.disputeId}`].join('\n');
  if (dispute.stage === 'closed') {
    const outcome = ({ won: 'won: the funds are back', lost: 'lost: the funds stay with the customer', warning_closed: 'closed without becoming a dispute' } as Record<string, string>)[dispute.status] ?? dispute.status.replace(/_/g, ' ');
    return email(`${what} ${outcome.split(':')[0]}: ${dispute.amount} on charge ${dispute.charge.id}`, [`The ${what.toLowerCase()} of charge ${dispute.charge.id} is ${outcome}.`, facts, dispute.where]);
  }
  const due = dispute.dueBy ? ` by ${utcMinute(dispute.dueBy)}` : '';
  const unanswered = inquiry ? `Unanswered${due}, an inquiry may become a dispute.` : `Unanswered${due}, the dispute is lost.`;
  if (dispute.stage === 'unanswered') {
    return email(`${what} still unanswered: ${dispute.amount} on charge ${dispute.charge.id}${due ? `, answer${due}` : ''}`, [
      `The ${what.toLowerCase()} of charge ${dispute.charge.id} (${reason}) still waits for an answer. ${unanswered}`,
      facts,
      `Submit evidence${due}, or accept it. ${dispute.where}`,
    ]);
  }
  return email(`${what} opened: ${dispute.amount} on charge ${dispute.charge.id}${due ? `, answer${due}` : ''}`, [
    inquiry
      ? `The card issuer asks about charge ${dispute.charge.id} (${reason}). No funds were taken yet; ${unanswered.charAt(0).toLowerCase()}${unanswered.slice(1)}`
      : `The customer disputed charge ${dispute.charge.id} (${reason}) with their bank: the amount and Stripe's dispute fee left the balance. ${unanswered}`,
    facts,
    `Submit evidence${due}, or accept it. ${dispute.where}`,
  ]);
}

export const dunningEmail = {
  notice(dunningCase: { invoice_id: string; hosted_invoice_url: string | null; opened_by: 'payment_failed' | 'overdue' }, amount: string, step: number, steps: number, sellerName: string): EmailText {
    const reminder = `reminder ${step} of ${steps}`;
    if (dunningCase.opened_by === 'overdue') {
      return email(`Invoice overdue: ${amount} is due (${reminder})`, [
        'Hello,',
        `Invoice ${dunningCase.invoice_id} for ${amount} is past its due date and not paid yet.`,
        dunningCase.hosted_invoice_url ? `Please pay it here: ${dunningCase.hosted_invoice_url}` : 'Please pay it as the invoice describes.',
        `This is ${reminder}.`,
        sellerName,
      ]);
    }
    return email(`Payment failed: ${amount} is due (${reminder})`, [
      'Hello,',
      `We could not collect ${amount} for invoice ${dunningCase.invoice_id}.`,
      dunningCase.hosted_invoice_url
        ? `Please pay it or update your payment method here: ${dunningCase.hosted_invoice_url}`
        : 'Please update your payment method in your account.',
      `This is ${reminder}.`,
      sellerName,
    ]);
  },

  recovered(amount: string, sellerName: string): EmailText {
    return email(`Payment received, thank you`, [
      'Hello,',
      `We received your payment of ${amount}. Thank you, there is nothing more to do.`,
      sellerName,
    ]);
  },

  exhausted(dunningCase: { invoice_id: string; customer_id: string | null }, amount: string, action: string): EmailText {
    return email(`Dunning ended without payment: ${amount} (${dunningCase.invoice_id})`, [
      `Every reminder for invoice ${dunningCase.invoice_id} went out and ${amount} remains unpaid.`,
      `Customer: ${dunningCase.customer_id ?? 'unknown'}\nFinal action: ${action}`,
    ]);
  },
};

export const customerEmail = {
  trialWillEnd(endsOn: string, sellerName: string): EmailText {
    return email('Your trial ends soon', [
      'Hello,',
      `Your free trial ends on ${endsOn}. Your subscription continues automatically with the payment method on file.`,
      sellerName,
    ]);
  },

  subscriptionCanceled(endedOn: string, sellerName: string): EmailText {
    return email('Your subscription has been canceled', [
      'Hello,',
      `Your subscription ended on ${endedOn}, and access to its features has stopped. You can subscribe again at any time.`,
      sellerName,
    ]);
  },

  renewalUpcoming(amount: string, on: string, sellerName: string): EmailText {
    return email(`Your subscription renews on ${on}`, [
      'Hello,',
      `Your subscription renews on ${on}; ${amount} will be charged to your payment method on file.`,
      sellerName,
    ]);
  },

  paymentActionRequired(amount: string, link: string | null, sellerName: string): EmailText {
    return email(`Please confirm your payment of ${amount}`, [
      'Hello,',
      `Your bank asks you to confirm the payment of ${amount}.`,
      link ? `Confirm it here: ${link}` : 'Please sign in to your account to confirm it.',
      sellerName,
    ]);
  },

  cardExpiring(card: string, expiry: string, sellerName: string): EmailText {
    return email('Your card is about to expire', [
      'Hello,',
      `Your ${card} expires at the end of ${expiry}. Please update your payment method to keep your subscription running.`,
      sellerName,
    ]);
  },
};

export function welcomeEmail(link: string, validHours: number, sellerName: string, subscribed: boolean): EmailText {
  return email(`Welcome to ${sellerName}`, [
    'Hello,',
    `Thank you for ${subscribed ? 'subscribing' : 'your order'}. Set the password of your account here:`,
    link,
    `The link works once and expires in ${validHours} hours.`,
    sellerName,
  ]);
}

/** A one-off order whose delayed payment (a bank debit, a voucher) failed after checkout. */
export function checkoutPaymentFailedEmail(amount: string | null, orderUrl: string, sellerName: string): EmailText {
  return email(`Your payment${amount ? ` of ${amount}` : ''} did not go through`, [
    'Hello,',
    `Your payment${amount ? ` of ${amount}` : ''} to ${sellerName} did not go through, so your order was not completed.`,
    `You can place it again here: ${orderUrl}`,
    sellerName,
  ]);
}

/** A Connect platform's fees earned and transfers made, when it had any: nothing for a platform without them. */
function connectFigures({ currency, application_fees, transfers }: DayFigures['totals'][number]): string {
  if (application_fees === 0 && transfers === 0) return '';
  return `, application fees ${formatAmount(application_fees, currency)}, transferred to connected accounts ${formatAmount(transfers, currency)}`;
}

export function dailyDigestEmail(day: string, figures: DayFigures): EmailText {
  const money = (amount: number, currency: string) => formatAmount(amount, currency);
  const events = figures.events.map((e) => `${e.status} ${e.count}`).join(', ') || 'none';
  const perCurrency = (rows: DayFigures['payments']) => rows.map((p) => `${p.count} × ${p.currency.toUpperCase()}, ${money(p.amount, p.currency)} in all`).join('\n') || 'none';
  const payments = perCurrency(figures.payments);
  const totals = figures.totals
    .map((t) => `${t.currency.toUpperCase()}: revenue ${money(t.revenue, t.currency)}, tax ${money(t.tax, t.currency)}, refunds ${money(t.refunds, t.currency)}, disputes ${money(t.disputes, t.currency)}, bad debt ${money(t.bad_debt, t.currency)}, Stripe fees ${money(t.fees, t.currency)}, paid out ${money(t.payouts, t.currency)}${t.topups !== 0 ? `, topped up ${money(t.topups, t.currency)}` : ''}${connectFigures(t)}`)
    .join('\n') || 'nothing booked';
  const attention = [
    ...(figures.failedEventCount > 0 ? [`${figures.failedEventCount} event(s) failed and wait for a retry: ${figures.failedEvents.map((e) => `${e.id} (${e.type})`).join(', ')}${figures.failedEventCount > figures.failedEvents.length ? ', …' : ''}`] : []),
    ...figures.exhaustedDunning.map((d) => `Dunning ended without payment: invoice ${d.invoice_id}, ${money(d.amount, d.currency)}`),
    ...(figures.awaitingFees > 0 ? [`${figures.awaitingFees} charge(s) or refund(s) wait for their Stripe fee (GET /admin/ledger/awaiting-fees)`] : []),
    ...(figures.chargesNotBooked > 0 ? [`${figures.chargesNotBooked} captured charge(s) not in the books: whether they pay an invoice is unknown without STRIPE_SECRET_KEY (GET /admin/ledger/charges-not-booked; with a key, POST …/place books them)`] : []),
    ...figures.disputesToAnswer.map(
      (d) =>
        `Dispute ${d.id} on ${d.charge_id ?? 'a charge'}${d.amount !== null && d.currency ? ` (${money(d.amount, d.currency)})` : ''}${d.account ? ` of connected account ${d.account}` : ''} waits for an answer${d.due_by ? `, due by ${utcMinute(d.due_by)}` : ''}`,
    ),
  ];
  const needsAttention = attention.length;
  const { accounts, entries } = figures.connectedBooks;
  return email(`Daily digest ${day}: ${needsAttention === 0 ? 'nothing needs attention' : `${needsAttention} item(s) need attention`}`, [
    `The platform's books of ${day} (UTC). The day's journal is attached as CSV.`,
    `Events received: ${events}`,
    `Payments:\n${payments}`,
    ...(figures.creditNotes.length > 0 ? [`Credit notes issued:\n${perCurrency(figures.creditNotes)}`] : []),
    `Booked:\n${totals}`,
    ...(accounts > 0
      ? [`Connected accounts: ${accounts} account(s) booked ${entries} entr${entries === 1 ? 'y' : 'ies'} in their own books, left out above (GET /admin/reports/close?month=${day.slice(0, 7)}&account=acct_… for one account's).`]
      : []),
    needsAttention === 0 ? 'Nothing needs attention.' : `Needs attention:\n${attention.join('\n')}`,
  ]);
}
