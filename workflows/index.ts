// The workflows a worker registers; the logic lives in one file per workflow.
export { processStripeEvent } from './process-stripe-event';
export { dunning } from './dunning';
export { reconcileStripeEvents } from './reconcile';
export { financeDailyDigest } from './finance-digest';
export { disputeAnswerReminder } from './dispute-reminder';
export { placeChargesNotBooked } from './place-charges';
