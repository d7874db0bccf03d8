import { ApplicationFailure } from '@temporalio/common';
import type { StripeEvent } from './events';

/** The non-retryable failure types workflows and operators can rely on (`last_error` names them). */
export const FailureType = {
  /** The event does not carry what its type promises; retrying cannot help. */
  InvalidEvent: 'InvalidEvent',
  /** The mail server refused a message for good (SMTP 5xx): fix the address or relay, then retry. */
  EmailRejected: 'EmailRejected',
  /** A run of an event whose payload `cleanup` dropped; the event's effects exist already. */
  PayloadCleanedUp: 'PayloadCleanedUp',
} as const;

export function invalidEvent(event: Pick<StripeEvent, 'id' | 'type'>, reason: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`${event.type} ${event.id}: ${reason}`, FailureType.InvalidEvent);
}
