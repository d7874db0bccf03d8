import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { currentEventGeneration, WorkflowType, type ProcessStripeEventInput } from '../../workflows/contracts';
import { eventRefs, type EventRefs, type StripeEvent } from '../platform/stripe-event';
import { eventSearchAttributes } from '../platform/temporal-client';
import { eventExecutionSummary, type ExecutionSummary } from '../platform/execution-summary';

export interface StartedEventWorkflow {
  workflowId: string;
  runId: string;
}

function startEventOptions(taskQueue: string, event: Pick<StripeEvent, 'id' | 'type'>, refs: EventRefs, summary: ExecutionSummary) {
  return {
    workflowId: event.id,
    taskQueue,
    args: [{ eventId: event.id, type: event.type, generation: currentEventGeneration }] as [ProcessStripeEventInput],
    typedSearchAttributes: eventSearchAttributes({ eventType: event.type, ...refs }),
    ...summary,
  };
}

/**
 * Starts the one execution of an event; true when this call created it. Its id is the event id,
 * and the policies make a start fail while it runs or after it closed, so no event ever runs
 * twice, however many deliveries arrive, and exactly one of them creates it.
 */
export async function startEventWorkflow(client: Client, taskQueue: string, event: StripeEvent, timeoutMs: number, refs: EventRefs = eventRefs(event)): Promise<boolean> {
  try {
    await client.connection.withDeadline(Date.now() + timeoutMs, () =>
      client.workflow.start(WorkflowType.processStripeEvent, {
        ...startEventOptions(taskQueue, event, refs, eventExecutionSummary(event, refs, event.data.object)),
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'FAIL',
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
}

/**
 * Starts a new run for an event whose last run failed (an operator's retry). Temporal refuses
 * while a run is open or after one completed, so a retry can never run beside another run.
 * Every effect is keyed in PostgreSQL, so what the failed run did is not done again.
 */
export async function restartEventWorkflow(
  client: Client,
  taskQueue: string,
  event: Pick<StripeEvent, 'id' | 'type'>,
  refs: EventRefs,
): Promise<StartedEventWorkflow> {
  const handle = await client.workflow.start(WorkflowType.processStripeEvent, {
    ...startEventOptions(taskQueue, event, refs, eventExecutionSummary(event, refs, undefined, 'retried by an operator')),
    workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
    workflowIdConflictPolicy: 'FAIL',
  });
  return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
}
