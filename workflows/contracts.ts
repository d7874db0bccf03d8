import { ApplicationFailure, defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * What workflows and the code that starts, signals or queries them agree on: names, inputs,
 * outcomes, search attributes and failure types. Workflow-safe (no I/O, no Node built-ins), so
 * workflow code, activities and clients all import it instead of importing each other.
 */

// Workflow types, signals and queries, by the names the server knows them.
export const WorkflowType = {
  processStripeEvent: 'processStripeEvent',
  dunning: 'dunning',
  reconcileStripeEvents: 'reconcileStripeEvents',
  financeDailyDigest: 'financeDailyDigest',
  disputeAnswerReminder: 'disputeAnswerReminder',
  placeChargesNotBooked: 'placeChargesNotBooked',
} as const;

export const DunningSignal = { paymentFailed: 'paymentFailed', invoiceSettled: 'invoiceSettled' } as const;
export const DunningQuery = { status: 'status' } as const;
/** What an operator may do to a running dunning (Temporal updates: validated, answered with the status). */
export const DunningUpdate = { pause: 'pause', resume: 'resume', stop: 'stop', skipToFinalAction: 'skipToFinalAction' } as const;

export interface DunningPauseArgs {
  reason?: string;
}

export interface DunningStopArgs {
  /** Why the dunning ends without its final action (kept on the case). */
  reason: string;
}

/** One execution per Stripe event: its workflow id is the event id. */
export interface ProcessStripeEventInput {
  eventId: string;
  type: string;
  /**
   * The handlers the starter expects: a run of the current generation takes the newest
   * handlers without patch markers. Absent in runs started before 2026-12-02, which ask their
   * patches. Workers must run code that knows a generation before starters send it.
   */
  generation?: number;
}

/**
 * The generation of event handlers this code starts (see ProcessStripeEventInput.generation):
 * 1 (from 2026-12-02) sends email as regular activities; 2 (from 2026-12-04) makes each email's
 * first attempt a local activity; 3 (from the evening of 2026-12-04) runs each stretch of
 * database steps, with the event's bookkeeping, as one local activity; 4 (from the night of
 * 2026-12-04) first tries all the steps of an event that sends email as one local activity; 5
 * (from 2026-12-06) runs as 4 and emails finance about disputes (a step added to types that had
 * steps already, which runs of earlier generations must not take: they replay what they began);
 * 6 (from the morning of 2026-12-06) also books a customer's credit balance changed by hand; 7
 * (from the same morning) also starts a reminder to finance before a dispute's answer is due; 8
 * (from the afternoon) also books the part paid of an invoice that still owes money on `invoice.updated`;
 * 9 (from the evening) keeps what paid each part of an invoice on `invoice_payment.paid`, which
 * runs of earlier generations ignored; 10 (from 2026-12-07) also emails a credit note's document on
 * `credit_note.created`, and tells finance on `credit_note.voided` when it had gone out.
 */
export const currentEventGeneration = 10;

/**
 * Steps of one event run as one local activity, in this order: a stretch of database steps
 * (generation 3), or all of them, emails included (generation 4).
 */
export interface EventSteps {
  eventId: string;
  /** First mark the event processing by this run. */
  runId?: string;
  steps: { name: string; args: unknown[]; outside?: boolean }[];
  /** Last mark the event finished so. */
  finish?: 'processed' | 'ignored';
}

/**
 * What a database step answers while a handler's steps are written down: an argument that
 * stands for the result of the database steps before it (a paid invoice's payment id, which its
 * email is given). A step given it is left out when that result is null (nothing to send).
 */
export const resultOfDatabaseSteps = Object.freeze({ resultOfDatabaseSteps: true });

function isResultOfDatabaseSteps(arg: unknown): boolean {
  return typeof arg === 'object' && arg !== null && (arg as { resultOfDatabaseSteps?: unknown }).resultOfDatabaseSteps === true;
}

/**
 * A step's arguments with the database steps' result in place of its stand-in; undefined when
 * the step asks for that result and it is null (nothing to send: the step is left out). Used in
 * the workflow (generation 3) and inside `runEventSteps` (generation 4) alike.
 */
export function argsWithResult(args: unknown[], result: unknown): unknown[] | undefined {
  if (result === null && args.some(isResultOfDatabaseSteps)) return undefined;
  return args.map((arg) => (isResultOfDatabaseSteps(arg) ? result : arg));
}

export type ProcessStripeEventResult = { status: 'processed' | 'ignored' };

export type DunningFinalAction = 'cancel_subscription' | 'mark_uncollectible' | 'none';

export interface DunningInput {
  invoiceId: string;
  /** Offsets from the start, in milliseconds, at which notices go out (DUNNING_SCHEDULE). */
  scheduleMs: number[];
  finalAction: DunningFinalAction;
  retryPayments: boolean;
  /** Wait after the last step before the final action (DUNNING_FINAL_GRACE); absent in runs started before it. */
  finalGraceMs?: number;
}

/** What a last look at an invoice before the final action finds. */
export type InvoiceStanding = 'unpaid' | DunningSettlement;

/** How an invoice left dunning from outside: paid, voided or written off. */
export type DunningSettlement = 'recovered' | 'voided' | 'uncollectible';
/** `stopped`: an operator ended it without the final action. */
export type DunningOutcome = DunningSettlement | 'exhausted' | 'stopped';

export interface DunningStatus {
  stage: string;
  nextStepAt: string | null;
  attempts: number;
  outcome: DunningOutcome | null;
  /** Set while an operator holds the dunning (absent in runs started before operator controls). */
  paused?: { since: string; reason: string | null } | null;
  /** Why an operator stopped it, once stopped. */
  stopReason?: string | null;
}

export interface PaymentFailedSignalArgs {
  eventId: string;
}

export interface InvoiceSettledSignalArgs {
  outcome: DunningSettlement;
}

/** The one dunning workflow of an unpaid invoice. */
export const dunningWorkflowId = (invoiceId: string) => `dunning-${invoiceId}`;

/** The customer notices that events trigger; each is sent once per the moment it is about. */
export type NoticeKind = 'trial_will_end' | 'subscription_canceled' | 'renewal_upcoming' | 'payment_action_required' | 'card_expiring';

/** Stripe objects stored as they are, newest event wins. */
export type PlainObjectTable = 'payment_intents' | 'charges' | 'invoices' | 'connected_accounts' | 'disputes';

// Keyword attributes so operations can find every execution of a customer or an invoice
// in the Temporal Web UI, e.g. `StripeCustomerId = "cus_123"`.
export const StripeEventType = defineSearchAttributeKey('StripeEventType', SearchAttributeType.KEYWORD);
export const StripeCustomerId = defineSearchAttributeKey('StripeCustomerId', SearchAttributeType.KEYWORD);
export const StripeInvoiceId = defineSearchAttributeKey('StripeInvoiceId', SearchAttributeType.KEYWORD);
export const StripeSubscriptionId = defineSearchAttributeKey('StripeSubscriptionId', SearchAttributeType.KEYWORD);
export const DunningStage = defineSearchAttributeKey('DunningStage', SearchAttributeType.KEYWORD);
/** Set by Temporal on runs a schedule starts: the time the run was due. */
export const TemporalScheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/** A dispute finance is reminded of before its answer is due (`dueBy`, ISO time), if still unanswered then. */
export interface DisputeReminderInput {
  disputeId: string;
  dueBy: string;
  /** How long before `dueBy` to remind (DISPUTE_REMINDER_LEAD). */
  leadMs: number;
  /** Where finance finds it: the Dashboard's live or test mode, or a connected account's. */
  livemode: boolean;
  account: string | null;
  /** The dispute's payment intent, which finds its invoice when the charge is not stored (absent in reminders started before 2026-12-06). */
  paymentIntentId?: string | null;
}

export const DisputeReminderSignal = { disputeSettled: 'disputeSettled' } as const;

/** A dispute event said the dispute no longer waits for an answer: under review, won, lost, accepted. */
export interface DisputeSettledSignalArgs {
  status: string;
}

/** What became of a reminder: sent, or not needed because the dispute was answered or closed by then. */
export interface DisputeReminderResult {
  reminded: boolean;
  status: string | null;
}

/** The daily digest to finance: one day (UTC), `YYYY-MM-DD`; absent, the day before the run was due. */
export interface FinanceDigestInput {
  day?: string;
}

/**
 * What became of a charge listed as not booked when Stripe was asked: booked as a `sale`, linked
 * to the invoice it pays (`invoice_payment`), placed by another event meanwhile, or `left` listed
 * (with the reason: no key, or Stripe refused).
 */
export interface ChargePlacement {
  charge: string;
  outcome: 'sale' | 'invoice_payment' | 'already_placed' | 'left';
  invoice?: string;
  reason?: string;
}

/** How many listed charges one placing run takes; the rest wait for the next run. */
export const chargesPlacedPerRun = 500;

/** What a placing run did to each charge it took; nothing when its worker has no key to ask Stripe with. */
export interface ChargesPlaced {
  canAskStripe: boolean;
  placements: ChargePlacement[];
}

/** A moment as finance and operators read it: `2026-12-20 23:59 UTC`. */
export const utcMinute = (moment: Date): string => `${moment.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** Whether a text is a real calendar day written `YYYY-MM-DD` (a digest day, a journal bound). */
export function isCalendarDay(day: string): boolean {
  const date = new Date(`${day}T00:00:00Z`);
  return /^\d{4}-\d{2}-\d{2}$/.test(day) && !Number.isNaN(date.getTime()) && date.toISOString().startsWith(day);
}

export const allSearchAttributes = [StripeEventType, StripeCustomerId, StripeInvoiceId, StripeSubscriptionId, DunningStage];

/** The non-retryable failure types workflows and operators can rely on (`last_error` names them). */
export const FailureType = {
  /** The event does not carry what its type promises; retrying cannot help. */
  InvalidEvent: 'InvalidEvent',
  /** The mail server refused a message for good (SMTP 5xx): fix the address or relay, then retry. */
  EmailRejected: 'EmailRejected',
  /** Another attempt holds the email's claim (retryable: the retry finds it sent, or the claim expired). */
  EmailBeingSent: 'EmailBeingSent',
  /** A run of an event whose payload `cleanup` dropped; the event's effects exist already. */
  PayloadCleanedUp: 'PayloadCleanedUp',
  /** A workflow started with input it cannot use (e.g. a digest day that is not a day). */
  InvalidInput: 'InvalidInput',
  /** The run began before its event row was committed, or the row could not be stored (retryable). */
  EventNotStored: 'EventNotStored',
  /** A processStripeEvent run whose handler failed; the event row says why. */
  EventProcessingFailed: 'EventProcessingFailed',
} as const;

export function invalidEvent(event: { id: string; type: string }, reason: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`${event.type} ${event.id}: ${reason}`, FailureType.InvalidEvent);
}

/** `read` applied to an event's object: what it refuses (by throwing) fails the event as invalid. */
export function eventObjectReader<T>(read: (object: any) => T): (event: { id: string; type: string; data: { object: unknown } }) => T {
  return (event) => {
    try {
      return read(event.data.object);
    } catch (err) {
      throw invalidEvent(event, (err as Error).message);
    }
  };
}
