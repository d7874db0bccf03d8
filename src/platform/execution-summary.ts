import { formatAmount, isCurrencyCode } from './money';
import type { EventRefs, Json, StripeEvent } from './stripe-event';
import { utcMinute } from '../../workflows/contracts';

/**
 * What an operator reads in the Temporal Web UI's list and at the top of an execution: which
 * event, about which object, customer and amount. Ids and amounts only: no names, emails or
 * card data, which the Web UI would show to everyone who can open it.
 */
export interface ExecutionSummary {
  /** One line, shown in the list of executions. */
  staticSummary: string;
  /** Temporal markdown, shown on the execution's page. */
  staticDetails: string;
}

/** The Web UI cuts longer summaries; ids keep theirs whole before this. */
const summaryLimit = 200;

const line = (parts: (string | null | undefined)[]) => parts.filter(Boolean).join(' · ').slice(0, summaryLimit);
const details = (rows: [string, string | null | undefined][]) =>
  rows
    .filter((row): row is [string, string] => Boolean(row[1]))
    .map(([label, value]) => `**${label}:** ${value}`)
    .join('  \n');

const moneyText = (amount: number, currency: string) => `${formatAmount(amount, currency)} ${currency.toUpperCase()}`;

/**
 * The money an event is about: what was paid for paid invoices, what is due for other invoices,
 * else the object's amount. Left out unless the currency is a three-letter code, which is all
 * the formatter takes: a summary never refuses an event (its steps report what is wrong with it).
 */
function amountOf(type: string, object: Json): string | null {
  if (!isCurrencyCode(object.currency)) return null;
  const paid = type === 'invoice.paid' || type === 'invoice.payment_succeeded';
  const field = object.object === 'invoice' ? (paid ? 'amount_paid' : 'amount_due') : ['amount', 'amount_total', 'total'].find((name) => Number.isSafeInteger(object[name]));
  const amount = field === undefined ? undefined : object[field];
  return Number.isSafeInteger(amount) ? moneyText(amount, object.currency) : null;
}

/** The summary of one event's execution; `object` is absent when only the stored refs are known (an operator's retry). */
export function eventExecutionSummary(event: Pick<StripeEvent, 'id' | 'type'> & Partial<Pick<StripeEvent, 'livemode' | 'account'>>, refs: EventRefs, object?: Json, note?: string): ExecutionSummary {
  const objectId = typeof object?.id === 'string' ? object.id : (refs.invoiceId ?? refs.subscriptionId ?? refs.customerId);
  const amount = object ? amountOf(event.type, object) : null;
  const others = [refs.customerId, refs.subscriptionId, refs.invoiceId].filter((id) => id && id !== objectId);
  return {
    staticSummary: line([event.type, objectId, ...others, amount, note]),
    staticDetails: details([
      ['Stripe event', `${event.id} (${event.type})`],
      ['Object', object && typeof object.object === 'string' ? `${object.object} ${objectId}` : objectId],
      ['Customer', refs.customerId],
      ['Subscription', refs.subscriptionId],
      ['Invoice', refs.invoiceId],
      ['Amount', amount],
      ['Mode', event.livemode === undefined ? null : event.livemode ? 'live' : 'test'],
      ['Connected account', event.account],
      ['Note', note],
    ]),
  };
}

/** `3d`, `12h`, `30s`: the largest unit that divides the duration. */
function durationText(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

export interface DunningSummaryInput {
  invoiceId: string;
  customerId: string | null;
  subscriptionId: string | null;
  amount: number;
  currency: string;
  scheduleMs: number[];
  finalAction: string;
  /** What put the invoice in dunning (runs before 2026-12-06 were all failed payments). */
  openedBy?: 'payment_failed' | 'overdue';
}

/** The summary of an invoice's dunning: which invoice and amount, and the schedule it follows. */
export function dunningExecutionSummary(input: DunningSummaryInput): ExecutionSummary {
  const amount = moneyText(input.amount, input.currency);
  const schedule = `notices at ${input.scheduleMs.map(durationText).join(', ')}, then ${input.finalAction === 'none' ? 'no final action' : input.finalAction}`;
  return {
    staticSummary: line(['dunning', input.invoiceId, input.customerId, amount]),
    staticDetails: details([
      ['Invoice', input.invoiceId],
      ['Customer', input.customerId],
      ['Subscription', input.subscriptionId],
      ['Amount due', amount],
      ['Opened by', input.openedBy === 'overdue' ? 'the invoice past its due date (paid by the customer, never charged by a retry)' : 'a failed payment'],
      ['Schedule', schedule],
    ]),
  };
}

/** The summary of a dispute's reminder: which dispute and charge, when its answer is due, and when finance is reminded. */
export function disputeReminderExecutionSummary(input: { disputeId: string; chargeId: string | null; customerId: string | null; dueBy: Date; leadMs: number }): ExecutionSummary {
  const due = utcMinute(input.dueBy);
  return {
    staticSummary: line(['dispute reminder', input.disputeId, input.customerId, `answer due ${due}`]),
    staticDetails: details([
      ['Dispute', input.disputeId],
      ['Charge', input.chargeId],
      ['Customer', input.customerId],
      ['Answer due', due],
      ['Reminder', `${durationText(input.leadMs)} before, to finance, unless answered or closed by then`],
    ]),
  };
}

/** The summary of a run placing the charges not booked: how many were listed when an operator asked. */
export function placingExecutionSummary(input: { listed: number; perRun: number }): ExecutionSummary {
  return {
    staticSummary: line(['place charges not booked', `${input.listed} listed`]),
    staticDetails: details([
      ['Asked by', 'an operator: POST /admin/ledger/charges-not-booked/place'],
      ['Listed', `${input.listed} charge(s) when it started; at most ${input.perRun} taken, oldest first`],
      ['Each', 'Stripe asked for the invoice payments of its payment intent: none books a sale, one links it to that invoice'],
    ]),
  };
}
