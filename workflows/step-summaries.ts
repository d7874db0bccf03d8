import { workflowInfo } from '@temporalio/workflow';
import { StripeCustomerId, StripeInvoiceId, StripeSubscriptionId, type EventSteps } from './contracts';

/**
 * What each step does, in the words of the business process, for the summary an operator reads
 * beside it in the Web UI's history: `Email the receipt and invoice · invoice in_123 · customer
 * cus_9`. The objects come from the execution's search attributes, set when it started.
 */
const phrases: Record<string, (args: unknown[]) => string> = {
  markEventProcessing: () => 'Mark the event processing',
  markEventFinished: ([, status]) => `Mark the event ${String(status)}`,
  recordInvoicePaid: () => 'Record the payment, documents, ledger and paid period',
  recordInvoicePayment: () => 'Record the payment',
  createPaymentDocuments: () => 'Number and render the receipt and invoice',
  emailPaymentDocuments: () => 'Email the receipt and invoice to the customer and finance',
  postPaymentToLedger: () => 'Post the payment to the ledger',
  recordSubscriptionPeriod: () => 'Record the paid period',
  completeCheckout: () => 'Complete the checkout: welcome the customer once it is paid, or tell a buyer their payment failed',
  syncCustomer: () => 'Store the customer',
  syncSubscription: () => 'Sync the subscription and its entitlements',
  warnOfEarlyFraud: () => 'Email finance the early fraud warning',
  tellFinanceOfDispute: () => 'Email finance the dispute',
  scheduleDisputeReminder: () => 'Start the reminder to finance before the dispute\'s answer is due',
  remindFinanceOfDispute: ([input]) => `Email finance if dispute ${(input as { disputeId?: string })?.disputeId ?? ''} still waits for an answer`,
  sendCustomerNotice: ([, kind]) => `Email the customer: ${String(kind).replace(/_/g, ' ')}`,
  startOrSignalDunning: () => 'Start or signal the dunning of the invoice',
  settleDunning: ([, outcome]) => `Settle the dunning as ${String(outcome)}`,
  syncPlainObject: ([, table]) => `Store the ${String(table).replace(/_/g, ' ').replace(/s$/, '')}`,
  postInvoiceFinalized: () => 'Post the invoice to the ledger',
  postPartPayment: () => 'Book the part of the invoice paid so far',
  postInvoiceUncollectible: () => 'Write the invoice off as bad debt',
  postInvoiceVoided: () => 'Reverse the voided invoice in the ledger',
  postCreditNote: () => 'Post the credit note',
  sendCreditNoteDocument: () => 'Number, render and email the credit note to the customer and finance',
  tellFinanceOfVoidedCreditNote: () => "Email finance that the credit note's document was voided",
  linkInvoicePayment: () => "Link what paid the invoice to it, and settle its charge's refunds' tax share",
  postChargeSale: () => 'Post the charge as a sale',
  postChargeRefunds: () => 'Post the refunds of the charge',
  postRefundFailed: () => 'Reverse the failed refund',
  postDispute: () => 'Post the dispute funds',
  postBalanceTransactions: () => "Book Stripe's fee and currency conversion",
  postPayout: () => 'Book the payout',
  postTopup: () => 'Book the top-up',
  postApplicationFeeOrTransfer: () => 'Book the application fee or transfer, and what went back',
  postCustomerBalanceAdjustments: () => 'Book the changes made by hand to the customer\'s credit balance',
  syncPaymentMethod: () => 'Store the payment method',
  syncSetupIntent: () => 'Store the setup intent',
  sendDunningNotice: ([, step, steps]) => `Send dunning notice ${String(step)} of ${String(steps)}`,
  retryInvoicePayment: ([, step]) => `Retry the payment (step ${String(step)})`,
  checkInvoiceStanding: () => 'Look at the invoice once more before the final action',
  finishDunning: ([, outcome, action]) => `End the dunning ${String(outcome)}${outcome === 'exhausted' ? ` (final action: ${String(action)})` : ''}`,
  reconcileEvents: () => "Start every Stripe event we don't have",
  emailDailyDigest: ([day]) => `Email finance the digest of ${String(day)}`,
  listChargesToPlace: () => 'List the charges not booked, oldest first',
  placeChargeNotBooked: ([chargeId]) => `Ask Stripe whether charge ${String(chargeId)} pays an invoice, and book it as a sale or link it to the invoice`,
};

const phraseOf = (name: string, args: unknown[]): string => phrases[name]?.(args) ?? name;

/** Several steps in one local activity: `Mark the event processing; store the charge; …`. */
function stepsPhrase({ runId, steps, finish }: EventSteps): string {
  const parts = [
    ...(runId !== undefined ? [phraseOf('markEventProcessing', [])] : []),
    ...steps.map((step) => phraseOf(step.name, step.args)),
    ...(finish !== undefined ? [phraseOf('markEventFinished', [undefined, finish])] : []),
  ];
  return parts.map((part, index) => (index === 0 ? part : part.charAt(0).toLowerCase() + part.slice(1))).join('; ');
}

export function stepSummary(name: string, args: unknown[]): string {
  const phrase = name === 'runEventSteps' ? stepsPhrase(args[0] as EventSteps) : phraseOf(name, args);
  const attributes = workflowInfo().typedSearchAttributes;
  const objects = [
    ['invoice', attributes.get(StripeInvoiceId)],
    ['subscription', attributes.get(StripeSubscriptionId)],
    ['customer', attributes.get(StripeCustomerId)],
  ].filter(([, id]) => id);
  // A dunning's workflow id names its invoice.
  const invoiceOfDunning = workflowInfo().workflowId.startsWith('dunning-') && !objects.some(([kind]) => kind === 'invoice') ? [['invoice', workflowInfo().workflowId.slice('dunning-'.length)]] : [];
  return [phrase, ...[...invoiceOfDunning, ...objects].map(([kind, id]) => `${kind} ${id}`)].join(' · ');
}
