import type { Config } from '../platform/config';
import type { StoredEvent } from '../store/events';

type UiSettings = Pick<Config, 'TEMPORAL_UI_URL' | 'TEMPORAL_NAMESPACE'>;

/** The execution in the Temporal Web UI, when TEMPORAL_UI_URL is set. */
export function temporalUiUrl(workflowId: string | null, runId: string | null, config: UiSettings): string | null {
  if (!config.TEMPORAL_UI_URL || !workflowId) return null;
  const base = config.TEMPORAL_UI_URL.replace(/\/+$/, '');
  const workflow = `${base}/namespaces/${encodeURIComponent(config.TEMPORAL_NAMESPACE)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${workflow}/${encodeURIComponent(runId)}/history` : workflow;
}

/** An event as the admin API shows it (snake_case, like Stripe). */
export function eventAsAdminJson(event: StoredEvent, config: UiSettings) {
  return {
    id: event.id,
    type: event.type,
    status: event.status,
    attempts: event.attempts,
    last_error: event.last_error,
    workflow_id: event.workflow_id,
    run_id: event.run_id,
    temporal_ui_url: temporalUiUrl(event.workflow_id, event.run_id, config),
    customer_id: event.customer_id,
    invoice_id: event.invoice_id,
    subscription_id: event.subscription_id,
    received_at: event.received_at,
    accepted_at: event.accepted_at,
    processed_at: event.processed_at,
  };
}
