import { ApplicationFailure } from '@temporalio/activity';
import type { StripeEvent } from '../src/events';

/** The failure types workflows and operators can rely on. */
export const FailureType = {
  /** The event does not carry what its type promises; retrying cannot help. */
  InvalidEvent: 'InvalidEvent',
} as const;

export function invalidEvent(event: Pick<StripeEvent, 'id' | 'type'>, reason: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`${event.type} ${event.id}: ${reason}`, FailureType.InvalidEvent);
}
